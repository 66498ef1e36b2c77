"""Keep diary values out of logged tracebacks.

PostgreSQL's errors carry a DETAIL line that can quote the whole offending row ("Failing
row contains (..., 'my notes', ...)"), and psycopg puts it in the exception's text, so a
500's traceback could log a person's notes. This filter rewrites every database error in
a record's exception chain to its primary message before any handler formats it.
"""

import logging
import traceback

from django.db import DatabaseError as DjangoDatabaseError

DATABASE_ERRORS: tuple[type[Exception], ...]
try:
    from psycopg import Error as PsycopgError

    DATABASE_ERRORS = (DjangoDatabaseError, PsycopgError)
except ImportError:  # SQLite only
    DATABASE_ERRORS = (DjangoDatabaseError,)


def _chain(error):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


class RedactDatabaseDetail(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text = "".join(traceback.format_exception(error))
            for link in _chain(error):
                if isinstance(link, DATABASE_ERRORS):
                    full = str(link)
                    primary = full.split("\n", 1)[0]
                    if full != primary:
                        text = text.replace(full, f"{primary} [detail withheld from the log]")
            record.exc_text = text.rstrip("\n")
            record.exc_info = None  # formatters use exc_text; nothing formats the original again
        return True
