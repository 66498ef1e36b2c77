"""The Jinja2 environment behind the "jinja2" template engine (the weekly email's templates).

Jinja2 compiles a template to Python code once, so rendering an email costs a
fraction of Django's template engine (bench/DIGEST.md). Django's own date
formats are kept as a filter, so both engines print a date the same way.
"""

from functools import lru_cache

from django.utils.dateformat import format as date_format
from django.utils.translation import get_language
from jinja2 import Environment, pass_context, select_autoescape

LANGUAGE = "date_language"  # a context variable: the active language, looked up once per render


@pass_context
def date(context, value, format_string: str) -> str:
    """Django's |date, remembered: an email prints the same few dates thousands of times, and each
    Django format goes through the translation machinery for every month and day name. Asking for
    the active language costs as much as the cached format, so a render may pass it in once."""
    if value in (None, ""):
        return ""
    return _date(value, format_string, context.get(LANGUAGE) or get_language())


@lru_cache(maxsize=4096)
def _date(value, format_string: str, language: str) -> str:
    return date_format(value, format_string)


def widthratio(value, max_value, max_width) -> int:
    """Django's {% widthratio %}: value / max_value scaled to max_width, rounded."""
    return round(float(value) / float(max_value) * max_width) if max_value else 0


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # Django's backend defaults it to True, for every extension
    env = Environment(
        # HTML is escaped; the subject and the plain-text part are not.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        # Text as written, trailing newline included, as Django's engine renders it.
        keep_trailing_newline=True,
        **options,
    )
    env.filters.update(date=date, widthratio=widthratio)
    return env
