"""JSON types as the schema states them.

DRF is lenient on input: a text field takes 0 and stores "0", an integer field
takes "5", a yes/no field takes "yes" or 1. That suits CSV imports, where every
value is text, but the API's schema promises types and a client that sends
the wrong one has a bug it should hear about. API serializers mix this in and
the import path opts out (context "strict_json": False).
"""

import re

from rest_framework import serializers

DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")

TEXT_FIELDS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.UUIDField,
    serializers.RelatedField,
)


def type_error(field: serializers.Field, value) -> str | None:
    if value is None or field.read_only:
        return None  # DRF itself checks null against allow_null
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be a whole number."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        # Decimals may also come as strings ("2.5"), exact as typed; the schema says so (cramptrack.schema).
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok or (isinstance(value, str) and DECIMAL_TEXT.fullmatch(value) is not None)
        return None if ok else "Must be a number."
    if isinstance(field, TEXT_FIELDS):
        return None if isinstance(value, str) else "Must be a string."
    return None


class StrictJSONTypes(serializers.Serializer):
    """Refuse values of the wrong JSON type with one message per field, before DRF coerces them."""

    def to_internal_value(self, data):
        self.check_json_types(data)
        return super().to_internal_value(data)

    def check_json_types(self, data) -> None:
        if self.context.get("strict_json", "request" in self.context) and isinstance(data, dict):
            errors = {}
            fields = self.fields
            for name, value in data.items():  # what was sent: fewer than the fields, as a rule
                if name in fields and (message := type_error(fields[name], value)):
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
