"""The API's JSON parser: DRF's, refusing what PostgreSQL, Python or the renderer would choke on.

- A lone surrogate ("\\ud800") is valid JSON but not text: stored, it fails in
  psycopg's UTF-8 encoder; echoed in an error message, it fails in the renderer.
- A NUL ("\\u0000") cannot be stored in a PostgreSQL text column, and Python's
  date and time parsers stop reading at one ("2026-11-03T03:10\\u0000junk" is
  accepted as a time), so no field could check it reliably.
- Absurdly deep nesting exhausts Python's recursion limit.
Each is a 500 or a silently wrong value further in; here it is a 400, in keys and values alike.
"""

import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NOT_TEXT = re.compile(r"[\x00\ud800-\udfff]")


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if has_non_text(data):
            raise ParseError(
                "JSON parse error - a string contains a NUL (\\u0000) or a lone surrogate (\\ud800-\\udfff)."
            )
        return data


def has_non_text(data) -> bool:
    """Walk the parsed document without recursion (a deep document must not hit the recursion limit)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NOT_TEXT.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
