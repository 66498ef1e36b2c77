"""allauth's pages in the app's words: sentence case ("Email addresses", not "Email Addresses")."""

from django import template

register = template.Library()


def _lower(part: str) -> str:
    return part.lower() if part[:1].isupper() and part[1:].islower() else part


@register.filter(is_safe=True)
def sentence_case(text) -> str:
    """Lower-case every Capitalised word (or hyphenated part: "Two-Factor") but the very first;
    acronyms (TOTP) and names (CrampTrack) stay."""
    words = [word.split("-") for word in str(text).split()]
    return " ".join(
        "-".join(part if (i, j) == (0, 0) else _lower(part) for j, part in enumerate(parts))
        for i, parts in enumerate(words)
    )
