"""Free text a person types: any language and emoji, but no invisible control characters.

Control characters (an escape sequence, a NUL) have no place in a diary note,
and bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make
a note or a medicine's name read differently on the clinician's screen than what
was stored ("Trojan Source"). The ordinary direction marks (U+200E, U+200F)
that right-to-left writing needs are allowed.
"""

import re

from rest_framework import serializers

ALLOWED_CONTROLS = "\t\n\r"
FORBIDDEN = re.compile(
    "["
    + "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if chr(c) not in ALLOWED_CONTROLS)
    + "\u202a-\u202e\u2066-\u2069]"
)


def reject_control_characters(value: str) -> None:
    found = FORBIDDEN.search(value)
    if found:
        raise serializers.ValidationError(
            f"Contains an invisible control character (U+{ord(found.group()):04X}) at position {found.start() + 1}."
        )


def guard_text_fields(fields: dict) -> dict:
    """Add the check to every free-text field of a serializer (choices are checked against their list)."""
    for field in fields.values():
        if isinstance(field, serializers.CharField) and not field.read_only:
            field.validators = [*field.validators, reject_control_characters]
    return fields
