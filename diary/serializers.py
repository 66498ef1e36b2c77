"""Validation and representation of diary rows for the API, sync and import.

Field names here are the public contract: the API, the CSV columns and the
JSON export all use them.
"""

import copy
from contextlib import suppress
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField, empty, get_error_detail
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import BindingDict

from cramptrack.json_types import StrictJSONTypes

from .localtime import is_valid_zone, local_today, night_of
from .models import (
    CHECKIN_CONTEXT_FIELDS,
    CONDITION_FIELDS,
    CheckIn,
    DoseChange,
    Episode,
    MedicationCourse,
    Profile,
    touch_diary,
)
from .safe_text import guard_text_fields

EARLIEST_DATE = timezone.datetime(1950, 1, 1).date()


def name_allowed_choices(fields) -> None:
    """Make an unknown choice's error name the allowed values.

    Set in the field's constructor arguments too: DRF copies a field by building it again from them.
    """
    for field in fields:
        if isinstance(field, serializers.ChoiceField):
            allowed = ", ".join(str(key) for key in field.choices if key != "")
            message = f'"{{input}}" is not a valid choice. Allowed: {allowed}.'
            field.error_messages["invalid_choice"] = message
            field._kwargs.setdefault("error_messages", {})["invalid_choice"] = message


class DiarySerializer(StrictJSONTypes, serializers.ModelSerializer):
    """Base for owned rows: `id` is the row's client-generated uuid."""

    id = serializers.UUIDField(source="uuid", required=False)

    # Fields built from the model once per class: introspecting ~30 model fields
    # was most of an episode create's validation time. Each instance gets copies.
    _built_fields: dict[type, dict] = {}
    # Likewise the validators DRF derives from the model's constraints for every instance.
    _built_validators: dict[type, list] = {}
    # Serializers whose fields hold no nested serializer may share the built fields'
    # innards (validators, choices, messages: never changed after building) and copy
    # only the top level; DRF's deep copy rebuilds every field from its arguments.
    flat_fields = False

    def get_fields(self):
        built = self._built()
        if self.flat_fields:
            return {name: shallow_copy(field) for name, field in built.items()}
        # A field's deepcopy rebuilds it from its constructor arguments: add the text check after.
        return guard_text_fields(copy.deepcopy(built))

    def _built(self) -> dict:
        cls = type(self)
        built = DiarySerializer._built_fields.get(cls)
        if built is None:
            built = guard_text_fields(super().get_fields())
            name_allowed_choices(built.values())
            for name, field in built.items():
                if not hasattr(field, "child"):  # a list's child is bound to its list: bound per instance below
                    field.bind(field_name=name, parent=None)
            DiarySerializer._built_fields[cls] = built
        return built

    @cached_property
    def fields(self):
        """DRF's bound fields. A flat serializer's fields come already bound: binding names a field
        after its key and reads its source (the same for every instance), only the parent differs."""
        if not self.flat_fields:
            return super().fields
        fields = BindingDict(self)
        for name, field in self.get_fields().items():
            if hasattr(field, "child"):  # a list: its own child, bound to it as DRF's constructor does
                field.child = shallow_copy(field.child)
                field.child.parent = field
                fields[name] = field  # BindingDict binds it to this serializer
            else:
                field.parent = self
                fields.fields[name] = field
        return fields

    def get_validators(self):
        cls = type(self)
        built = DiarySerializer._built_validators.get(cls)
        if built is None:
            built = DiarySerializer._built_validators[cls] = super().get_validators()
        return list(built)  # stateless (each call is handed the serializer); the list is the instance's own

    # DRF walks self.fields through its Mapping interface, a Python call per field and lookup;
    # the bound fields' own dict is the same fields in the same order.
    @property
    def _writable_fields(self):
        return [field for field in self.fields.fields.values() if not field.read_only]

    @property
    def _readable_fields(self):
        return [field for field in self.fields.fields.values() if not field.write_only]

    def to_internal_value(self, data):
        """DRF's Serializer.to_internal_value, minus the fields a JSON body leaves out that can only be skipped.

        DRF runs every writable field's validation, and a field that is absent, optional and without a
        default ends each time in SkipField: 20 of an episode's 25 as the phone sends it, most of the
        validation's cost. Those are passed over here; any other field goes through DRF's own steps.
        """
        if type(data) is not dict:  # not a JSON object (a form's QueryDict, a list...): DRF's own path
            return super().to_internal_value(data)
        self.check_json_types(data)
        ret, errors = {}, {}
        for field in self._writable_fields:
            name = field.field_name
            if name not in data and not field.required and field.default is empty:
                continue  # what DRF would do: get_value() gives `empty`, get_default() raises SkipField
            validate_method = getattr(self, "validate_" + name, None)
            try:
                value = field.run_validation(field.get_value(data))
                if validate_method is not None:
                    value = validate_method(value)
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
            except DjangoValidationError as exc:
                errors[name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                self.set_value(ret, field.source_attrs, value)
        if errors:
            raise serializers.ValidationError(errors)
        return ret

    def to_representation(self, instance):
        """DRF's Serializer.to_representation, with a flat serializer's plain fields and times read straight
        off the row: DRF's two calls per field (get_attribute, to_representation) and its time zone lookup
        per time were most of an episode's representation, in every create's answer and on every list page."""
        if not (self.flat_fields and isinstance(instance, Model)):
            return super().to_representation(instance)
        ret = {}
        zone = _UNKNOWN
        for field in self._readable_fields:
            plain = PLAIN_REPRESENTATION.get(type(field))
            if plain is not None and len(field.source_attrs) == 1:
                value = getattr(instance, field.source_attrs[0], _MISSING)
                if value is not _MISSING:  # missing: DRF's steps below decide (a default, a skip, an error)
                    ret[field.field_name] = None if value is None else plain(field, value)
                    continue
            elif type(field) is serializers.DateTimeField and _iso_in_current_zone(field):
                value = getattr(instance, field.source_attrs[0], _MISSING) if len(field.source_attrs) == 1 else _MISSING
                if isinstance(value, datetime) and value.utcoffset() is not None:
                    if zone is _UNKNOWN:  # DRF looks it up for each value
                        zone = timezone.get_current_timezone()
                    with suppress(OverflowError):  # out of range there: DRF's steps below give its error
                        text = value.astimezone(zone).isoformat()
                        ret[field.field_name] = text[:-6] + "Z" if text.endswith("+00:00") else text
                        continue
            try:  # any other field: DRF's own steps
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return ret

    def validate_id(self, value):
        if self.instance is not None and value is not None and value != self.instance.uuid:
            raise serializers.ValidationError("A stored row keeps its id.")
        return value

    @property
    def owner(self):
        return self.context["user"] if "user" in self.context else self.context["request"].user


def _choice_representation(field: serializers.ChoiceField, value):
    if value == "":
        return value
    return field.choice_strings_to_values.get(str(value), value)


_MISSING = object()
_UNKNOWN = object()


def _iso_in_current_zone(field: serializers.DateTimeField) -> bool:
    """Whether DRF writes this field's aware values as ISO 8601 in the active time zone (its default)."""
    return (
        settings.USE_TZ
        and not hasattr(field, "timezone")
        and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
    )


# What DRF's to_representation returns for a field's (non-null) value, for the field types where that
# is a builtin's conversion (and a choice's lookup). Exact types: a subclass may represent differently.
PLAIN_REPRESENTATION = {
    serializers.CharField: lambda field, value: str(value),
    serializers.IntegerField: lambda field, value: int(value),
    serializers.BooleanField: lambda field, value: value if type(value) is bool else field.to_representation(value),
    serializers.ChoiceField: _choice_representation,
}


def shallow_copy(field: serializers.Field) -> serializers.Field:
    """copy.copy(field), without its generic __reduce_ex__ round trip (a third of its cost)."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


def reject_far_past(day):
    if day < EARLIEST_DATE:
        raise serializers.ValidationError(f"Dates before {EARLIEST_DATE.isoformat()} are not accepted.")


# A course may be entered before it starts or with its planned end, but not decades ahead.
PLANNING_HORIZON = timedelta(days=366)


def reject_far_future(day):
    latest = timezone.now().date() + PLANNING_HORIZON
    if day > latest:
        raise serializers.ValidationError(f"Dates after {latest.isoformat()} (a year from now) are not accepted.")


class EpisodeSerializer(DiarySerializer):
    flat_fields = True
    night = serializers.DateField(read_only=True)
    red_flags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Episode
        fields = [
            "id",
            "started_at",
            "time_approximate",
            "night",
            "muscle",
            "side",
            "duration_minutes",
            "severity",
            "context",
            "hard_knot",
            "relief",
            "soreness_hours",
            "numbness_tingling",
            "tingling_mouth_fingers",
            "weakness",
            "calf_swelling",
            "pain_between_cramps",
            "back_pain_radiating",
            "foot_pale_cold",
            "walking_pain_relief",
            "saddle_numbness",
            "dark_urine",
            "breathless_chest_pain",
            "urge_to_move",
            "spread_beyond_legs",
            "notes",
            "red_flags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_started_at(self, value):
        latest = timezone.now() + timedelta(minutes=settings.CLOCK_SKEW_MINUTES)
        if value > latest:
            raise serializers.ValidationError("The start time is in the future. Check the date and your phone's clock.")
        reject_far_past(value.date())
        return value


class CheckInSerializer(DiarySerializer):
    flat_fields = True

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "date",
            "no_cramps",
            "bedtime",
            "wake_time",
            *CHECKIN_CONTEXT_FIELDS,
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness of (user, date) is checked in validate(), scoped to the owner.
        validators: list = []

    def validate_id(self, value):
        return value  # another device's id for a stored date is merged into that row (recording.upsert_checkin)

    def validate_date(self, value):
        reject_far_past(value)
        # The night of D ends at D+1 noon, so a morning check-in is for yesterday;
        # today is allowed for the evening's context.
        if value > local_today(self.owner.profile.zone):
            raise serializers.ValidationError("This date is in the future in your time zone.")
        return value

    def validate(self, attrs):
        sitting = self._value(attrs, "hours_sitting")
        standing = self._value(attrs, "hours_standing")
        if sitting is not None and standing is not None and sitting + standing > 24:
            raise serializers.ValidationError({"hours_standing": "Hours sitting and standing add up to more than 24."})
        if self._value(attrs, "no_cramps") is True:
            day = self._value(attrs, "date")
            logged = Episode.objects.filter(user=self.owner, night=day).count()
            if logged:
                raise serializers.ValidationError(
                    {"no_cramps": f"You logged {logged} cramp(s) that night; delete them first or answer 'yes'."}
                )
        return attrs

    def _value(self, attrs, name):
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None) if self.instance is not None else None


class DoseChangeSerializer(DiarySerializer):
    class Meta:
        model = DoseChange
        fields = ["id", "changed_on", "direction", "dose"]

    def validate_changed_on(self, value):
        reject_far_past(value)
        reject_far_future(value)
        return value


class OwnedCourseField(serializers.SlugRelatedField):
    """A writable reference to one of the requesting user's own medication courses."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="uuid", **kwargs)

    def get_queryset(self):
        owner = self.context["user"] if "user" in self.context else self.context["request"].user
        return MedicationCourse.objects.filter(user=owner)


class StandaloneDoseChangeSerializer(DoseChangeSerializer):
    medication = OwnedCourseField(source="course")

    class Meta(DoseChangeSerializer.Meta):
        fields = ["id", "medication", "changed_on", "direction", "dose"]
        # The (course, uuid) constraint is enforced by diary.recording.create_once.
        validators: list = []

    def validate(self, attrs):
        course = attrs.get("course") or getattr(self.instance, "course", None)
        changed_on = attrs.get("changed_on") or getattr(self.instance, "changed_on", None)
        if course and changed_on and changed_on < course.started_on:
            raise serializers.ValidationError({"changed_on": "A dose change cannot come before the course started."})
        return attrs


class MedicationCourseSerializer(DiarySerializer):
    kind = serializers.CharField(read_only=True)
    dose_changes = DoseChangeSerializer(many=True, read_only=True)

    class Meta:
        model = MedicationCourse
        fields = [
            "id",
            "name",
            "drug_class",
            "kind",
            "dose",
            "started_on",
            "stopped_on",
            "notes",
            "dose_changes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_started_on(self, value):
        reject_far_past(value)
        reject_far_future(value)
        return value

    def validate_stopped_on(self, value):
        if value is not None:
            reject_far_past(value)
            reject_far_future(value)
        return value

    def validate(self, attrs):
        started = attrs.get("started_on", getattr(self.instance, "started_on", None))
        stopped = attrs.get("stopped_on", getattr(self.instance, "stopped_on", None))
        if started and stopped and stopped < started:
            raise serializers.ValidationError({"stopped_on": "The stop date is before the start date."})
        return attrs


class ProfileSerializer(StrictJSONTypes, serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    role = serializers.CharField(source="user.role", read_only=True)
    email_verified = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = [
            "email",
            "role",
            "email_verified",
            "timezone",
            "birth_year",
            "sex",
            "pregnant",
            "due_date",
            "postmenopausal",
            *CONDITION_FIELDS,
            "digest_enabled",
            "digest_weekday",
            "digest_hour",
            "stretch_trial_started_on",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_allowed_choices(self.fields.values())

    def get_email_verified(self, profile) -> bool:
        return profile.user.emailaddress_set.filter(email__iexact=profile.user.email, verified=True).exists()

    def validate_timezone(self, value):
        if not is_valid_zone(value):
            raise serializers.ValidationError(f'"{value}" is not an IANA time zone name (for example "Europe/London").')
        return value

    def validate_birth_year(self, value):
        this_year = timezone.now().year
        if value is not None and not (this_year - 120 <= value <= this_year):
            raise serializers.ValidationError(f"Enter a year between {this_year - 120} and {this_year}.")
        return value

    def validate(self, attrs):
        pregnant = attrs.get("pregnant", getattr(self.instance, "pregnant", False))
        if not pregnant and attrs.get("due_date"):
            raise serializers.ValidationError({"due_date": "A due date is only recorded during a pregnancy."})
        return attrs

    @transaction.atomic
    def update(self, instance, validated_data):
        old_zone = instance.timezone
        old_schedule = (instance.timezone, instance.digest_weekday, instance.digest_hour)
        if not validated_data.get("pregnant", instance.pregnant):
            validated_data["due_date"] = None
        profile = super().update(instance, validated_data)
        if (profile.timezone, profile.digest_weekday, profile.digest_hour) != old_schedule:
            profile.schedule_digest()
            profile.save(update_fields=["digest_next_at"])
        if profile.timezone != old_zone:
            restamp_nights(profile)
        touch_diary(profile.user_id)
        return profile


def restamp_nights(profile: Profile) -> None:
    """Recompute every episode's night after a change of home time zone."""
    zone = profile.zone
    episodes = list(Episode.objects.filter(user=profile.user).only("id", "started_at", "night"))
    for episode in episodes:
        episode.night = night_of(episode.started_at, zone)
    Episode.objects.bulk_update(episodes, ["night"], batch_size=500)
