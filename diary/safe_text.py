"""Free text a person types: any language and emoji, but no invisible control characters.

Control characters (an escape sequence, a NUL) have no place in a diary note,
and bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make
a note or a medicine's name read differently on the clinician's screen than what
was stored ("Trojan Source"). Other invisible format characters (a zero-width
space, a soft hyphen, a word joiner, tag characters) make two names that look
alike differ ("Simva\u200bstatin" is not found as Simvastatin). Kept: the
direction marks (U+200E, U+200F) that right-to-left writing needs and the
joiners (U+200C, U+200D) that emoji and many scripts need.
"""

import re
import unicodedata

from rest_framework import serializers

ALLOWED_CONTROLS = "\t\n\r"
FORBIDDEN = re.compile(
    "["
    + "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if chr(c) not in ALLOWED_CONTROLS)
    + "\u202a-\u202e\u2066-\u2069]"
)


KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d\u200e\u200f")


def invisible_character(value: str) -> tuple[int, str] | None:
    """The first character no one can see or should store, as (position from 1, character)."""
    found = FORBIDDEN.search(value)
    if found:
        return found.start() + 1, found.group()
    for position, character in enumerate(value, 1):
        if unicodedata.category(character) == "Cf" and character not in KEPT_FORMAT_CHARACTERS:
            return position, character
    return None


def reject_control_characters(value: str) -> None:
    found = invisible_character(value)
    if found:
        position, character = found
        raise serializers.ValidationError(
            f"Contains an invisible character (U+{ord(character):04X}) at position {position}; "
            "type or paste the text again without it."
        )


def guard_text_fields(fields: dict) -> dict:
    """Add the check to every free-text field of a serializer (choices are checked against their list)."""
    for field in fields.values():
        if isinstance(field, serializers.CharField) and not field.read_only:
            field.validators = [*field.validators, reject_control_characters]
    return fields
