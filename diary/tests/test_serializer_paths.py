"""The diary serializers' own paths (pre-bound fields, representation, validation) give what DRF's give.

DiarySerializer replaces three DRF steps on the write path for speed. DRF's own methods,
called on the same serializer, are the oracle: every field, set and left out.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from diary.models import CheckIn, Episode
from diary.serializers import CheckInSerializer, EpisodeSerializer

pytestmark = pytest.mark.django_db

API = {Episode: "/api/v1/episodes/", CheckIn: "/api/v1/checkins/"}
SERIALIZERS = {Episode: EpisodeSerializer, CheckIn: CheckInSerializer}


def full_body(serializer_class) -> dict:
    """A valid value for every writable field, chosen from the field itself (a new field is covered too)."""
    body = {}
    for name, field in serializer_class().fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ChoiceField):
            body[name] = list(field.choices)[-1]
        elif isinstance(field, serializers.BooleanField):
            body[name] = True
        elif isinstance(field, serializers.IntegerField):
            body[name] = field.max_value
        elif isinstance(field, serializers.DecimalField):
            body[name] = "1.5"
        elif isinstance(field, serializers.DateTimeField):
            body[name] = (timezone.now() - timedelta(hours=5)).isoformat()
        elif isinstance(field, serializers.DateField):
            body[name] = (timezone.now() - timedelta(days=3)).date().isoformat()
        elif isinstance(field, serializers.TimeField):
            body[name] = "22:30"
        elif isinstance(field, serializers.UUIDField):
            body[name] = str(uuid.uuid4())
        elif type(field) is serializers.CharField:
            body[name] = "Woke at 3, stretched, walked it off – ça va"
        else:
            raise AssertionError(f"no sample value for {name} ({type(field).__name__})")
    return body


def minimal_body(model) -> dict:
    if model is Episode:
        return {"started_at": (timezone.now() - timedelta(hours=2)).isoformat(), "muscle": "calf", "side": "left"}
    return {"date": (timezone.now() - timedelta(days=3)).date().isoformat(), "no_cramps": False}


@pytest.mark.parametrize("model", [Episode, CheckIn])
@pytest.mark.parametrize("shape", ["full", "minimal"])
@pytest.mark.parametrize("active_zone", ["UTC", "Asia/Kolkata"])  # times are written in the active zone
def test_a_flat_rows_representation_is_drfs(alice, alice_api, model, shape, active_zone):
    serializer_class = SERIALIZERS[model]
    body = full_body(serializer_class) if shape == "full" else minimal_body(model)
    response = alice_api.post(API[model], body, format="json")
    assert response.status_code == 201, response.data
    row = model.objects.get(user=alice)
    serializer = serializer_class(row)

    with timezone.override(active_zone):
        ours = serializer.to_representation(row)
        drfs = serializers.Serializer.to_representation(serializer, row)

    assert ours == drfs
    assert [type(value) for value in ours.values()] == [type(value) for value in drfs.values()]
    if shape == "full":  # the full body left nothing null: every plain field went through our path
        assert all(value is not None for value in ours.values())
        assert ours["notes"] == body["notes"]
    assert ours["created_at"].endswith("Z" if active_zone == "UTC" else "+05:30")


def test_each_serializer_gets_its_own_bound_fields(alice):
    first = EpisodeSerializer(data={"muscle": "elbow"}, context={"user": alice})
    second = EpisodeSerializer(context={"user": alice})

    for name in first.fields:
        ours, theirs = first.fields[name], second.fields[name]
        assert ours is not theirs
        assert ours.parent is first and theirs.parent is second
        assert ours.field_name == name and ours.source_attrs == (ours.source.split("."))
    assert first.fields["red_flags"].child.parent is first.fields["red_flags"]
    assert first.fields["muscle"].context == {"user": alice}
    assert not first.is_valid()
    assert "Allowed: calf" in str(first.errors["muscle"][0])
    # The first instance's errors changed none of the second's fields.
    second_valid = EpisodeSerializer(data=minimal_body(Episode), context={"user": alice})
    assert second_valid.is_valid(), second_valid.errors


@pytest.mark.parametrize(
    "body",
    [
        "full",
        {"started_at": "2026-11-03T03:10:00Z", "muscle": "elbow", "side": "up", "severity": 11, "notes": "a\x1bb"},
        {"started_at": "yesterday", "duration_minutes": -1, "hard_knot": "perhaps"},
    ],
)
def test_validation_gives_drfs_values_and_errors(alice, body):
    body = full_body(EpisodeSerializer) if body == "full" else body

    def validate(step):
        serializer = EpisodeSerializer(data=body, context={"user": alice})
        try:
            return "valid", step(serializer, body)
        except serializers.ValidationError as error:
            return "invalid", error.detail

    ours = validate(EpisodeSerializer.to_internal_value)
    drfs = validate(lambda serializer, data: serializers.Serializer.to_internal_value(serializer, data))

    assert ours == drfs
