"""Validation and representation of diary rows for the API, sync and import.

Field names here are the public contract: the API, the CSV columns and the
JSON export all use them.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from cramptrack.json_types import StrictJSONTypes

from .localtime import is_valid_zone, local_today
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

EARLIEST_DATE = date(1950, 1, 1)


def name_allowed_choices(fields) -> None:
    """Make an unknown choice's error name the allowed values."""
    for field in fields:
        if isinstance(field, serializers.ChoiceField):
            allowed = ", ".join(str(key) for key in field.choices if key != "")
            field.error_messages["invalid_choice"] = f'"{{input}}" is not a valid choice. Allowed: {allowed}.'


class DiarySerializer(StrictJSONTypes, serializers.ModelSerializer):
    """Base for owned rows: `id` is the row's client-generated uuid."""

    id = serializers.UUIDField(source="uuid", required=False)

    def get_fields(self):
        fields = guard_text_fields(super().get_fields())
        name_allowed_choices(fields.values())
        return fields

    def validate_id(self, value):
        if self.instance is not None and value is not None and value != self.instance.uuid:
            raise serializers.ValidationError("A stored row keeps its id.")
        return value

    @property
    def owner(self):
        return self.context["user"] if "user" in self.context else self.context["request"].user


def reject_far_past(day):
    if day < EARLIEST_DATE:
        raise serializers.ValidationError(f"Dates before {EARLIEST_DATE.isoformat()} are not accepted.")


# A course may be entered before it starts or with its planned end, but not decades ahead.
PLANNING_HORIZON = timedelta(days=366)


def reject_far_future(day):
    latest = timezone.now().date() + PLANNING_HORIZON
    if day > latest:
        raise serializers.ValidationError(f"Dates after {latest.isoformat()} (a year from now) are not accepted.")


def zone_name(value: str) -> None:
    if not is_valid_zone(value):
        raise serializers.ValidationError(f'"{value}" is not an IANA time zone name (for example "Europe/London").')


class EpisodeSerializer(DiarySerializer):
    # The zone the night is lived in; the phone sends its own, or the profile's is taken (validate).
    timezone = serializers.CharField(max_length=64, required=False, validators=[zone_name])
    night = serializers.DateField(read_only=True)
    red_flags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Episode
        fields = [
            "id",
            "started_at",
            "time_approximate",
            "timezone",
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

    def validate(self, attrs):
        # Filled here rather than on save, so a retry without a zone compares equal (recording.differing_fields).
        if self.instance is None and "timezone" not in attrs:
            attrs["timezone"] = self.owner.profile.timezone
        return attrs


class CheckInSerializer(DiarySerializer):
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
    digest_paused_at = serializers.SerializerMethodField(
        help_text="when the weekly email paused after weeks without entries; null while it isn't paused "
        "(any entry, or saving with digest_enabled true, resumes it)"
    )
    email_bounced_at = serializers.SerializerMethodField(
        help_text="when the mail server refused your address for good; null unless emails to it are stopped "
        "(change your address, or save with digest_enabled true to try it again)"
    )

    class Meta:
        model = Profile
        fields = [
            "email",
            "role",
            "email_verified",
            "email_bounced_at",
            "timezone",
            "timezone_confirmed",
            "birth_year",
            "sex",
            "pregnant",
            "due_date",
            "postmenopausal",
            *CONDITION_FIELDS,
            "digest_enabled",
            "digest_weekday",
            "digest_hour",
            "digest_paused_at",
            "stretch_trial_started_on",
            "emergency_number",
            "non_emergency_number",
            "fluid_unit",
            "clock",
        ]
        read_only_fields = ["timezone_confirmed"]
        extra_kwargs = {
            "timezone_confirmed": {"help_text": "whether a phone or you set the zone (until then it is the default)"},
            "emergency_number": {"help_text": "the number the app offers to call beside an emergency red flag"},
            "non_emergency_number": {"help_text": "a non-emergency medical line, offered beside a same-day red flag"},
            "fluid_unit": {"help_text": "how the app asks for and shows fluids; check-ins store cups of 250 ml"},
            "clock": {"help_text": "24h or 12h for the times the app shows and asks for; blank follows the phone"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_allowed_choices(self.fields.values())

    def get_email_verified(self, profile) -> bool:
        return profile.user.emailaddress_set.filter(email__iexact=profile.user.email, verified=True).exists()

    def get_digest_paused_at(self, profile) -> datetime | None:
        return profile.digest_paused_at if profile.digest_paused else None

    def get_email_bounced_at(self, profile) -> datetime | None:
        return profile.email_bounced_at if profile.email_bounced else None

    def validate_timezone(self, value):
        zone_name(value)
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
        old_schedule = (instance.timezone, instance.digest_weekday, instance.digest_hour)
        if not validated_data.get("pregnant", instance.pregnant):
            validated_data["due_date"] = None
        if "timezone" in validated_data:
            validated_data["timezone_confirmed"] = True
        if validated_data.get("digest_enabled"):  # turning it on (or saving it on) resumes a pause or a bounce
            instance.resume_digest()
        profile = super().update(instance, validated_data)
        if (profile.timezone, profile.digest_weekday, profile.digest_hour) != old_schedule:
            profile.schedule_digest()
            profile.save(update_fields=["digest_next_at"])
        touch_diary(profile.user_id)
        return profile
