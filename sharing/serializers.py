"""API shapes for sharing: the patient's grants and access log, and the clinician's read-only views."""

from rest_framework import serializers

from diary.serializers import CheckInSerializer, EpisodeSerializer, MedicationCourseSerializer
from insights.api import FindingSerializer

from . import grants
from .models import SCOPES, AccessLog, Grant, Practice

# --- The patient's side ----------------------------------------------------------------------------


class PracticeMemberSerializer(serializers.Serializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name")


class SharedPracticeSerializer(serializers.ModelSerializer):
    """A practice the patient shares with, and its members now: everyone who can read."""

    id = serializers.UUIDField(source="uuid", read_only=True)
    members = PracticeMemberSerializer(
        source="memberships", many=True, read_only=True, help_text="who can read now; empty once the share is over"
    )

    class Meta:
        model = Practice
        fields = ["id", "name", "members"]
        read_only_fields = fields


class ShareSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    status = serializers.SerializerMethodField()
    clinician = serializers.SerializerMethodField(
        help_text="who can read (or was invited to read) the diary; for a practice, who accepted for it"
    )
    practice = SharedPracticeSerializer(read_only=True, allow_null=True, help_text="set when shared with a practice")
    views = serializers.IntegerField(read_only=True, default=0)
    last_viewed_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)
    # Empty for a share code: a plain string, as "" is no e-mail address.
    invited_email = serializers.CharField(read_only=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "kind",
            "status",
            "clinician",
            "practice",
            "invited_email",
            *SCOPES,
            "expires_at",
            "offer_expires_at",
            "created_at",
            "accepted_at",
            "revoked_at",
            "views",
            "last_viewed_at",
        ]
        read_only_fields = fields

    def get_status(self, grant) -> str:
        return grant.status()

    def to_representation(self, grant):
        data = super().to_representation(grant)
        # The members are who can read now: nobody, once the share is over (as on the /sharing/ page).
        if data["practice"] is not None and data["status"] != Grant.Status.ACTIVE:
            data["practice"]["members"] = []
        return data

    def get_clinician(self, grant) -> str:
        return grant.clinician_email or grant.invited_email


class ScopeAndExpiryFields(serializers.Serializer):
    episodes_checkins = serializers.BooleanField(default=True)
    insights = serializers.BooleanField(default=True)
    medications = serializers.BooleanField(default=True)
    notes = serializers.BooleanField(default=False, help_text="free-text notes; off unless you turn it on")
    last_day = serializers.DateField(
        required=False, help_text="the last day of access, in your time zone (default: 90 days from today, at most 365)"
    )

    @property
    def zone(self):
        return self.context["request"].user.profile.zone

    def validate_last_day(self, value):
        first, last = grants.last_day_bounds(self.zone)
        if not first <= value <= last:
            raise serializers.ValidationError(f"Choose a day from {first.isoformat()} to {last.isoformat()}.")
        return value

    def validate(self, attrs):
        if not any(attrs.get(name) for name in SCOPES):
            raise serializers.ValidationError("Share at least one part of your diary.")
        last_day = attrs.pop("last_day", None) or grants.default_last_day(self.zone)
        attrs["expires_at"] = grants.expiry_after(last_day, self.zone)
        return attrs


class InvitationRequestSerializer(ScopeAndExpiryFields):
    email = serializers.EmailField(help_text="the clinician's email address; the link goes there only")

    def validate_email(self, value):
        if value.strip().lower() == self.context["request"].user.email.lower():
            raise serializers.ValidationError("Enter your clinician's address, not your own.")
        return value.strip().lower()


class CodeRequestSerializer(ScopeAndExpiryFields):
    pass


class CreatedCodeSerializer(ShareSerializer):
    code = serializers.CharField(read_only=True, help_text="shown once: give it to your clinician")

    class Meta(ShareSerializer.Meta):
        fields = [*ShareSerializer.Meta.fields, "code"]
        read_only_fields = fields


class AccessLogSerializer(serializers.ModelSerializer):
    share_id = serializers.UUIDField(source="grant.uuid", read_only=True)
    what_label = serializers.CharField(source="get_what_display", read_only=True)
    practice = serializers.CharField(
        source="grant.practice.name", read_only=True, allow_null=True, default=None, help_text="read for this practice"
    )

    class Meta:
        model = AccessLog
        fields = ["at", "share_id", "clinician_email", "practice", "what", "what_label", "detail"]
        read_only_fields = fields


# --- The clinician's side -------------------------------------------------------------------------


class RedeemCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="the 8-character code from your patient, e.g. ABCD-EFGH")
    practice = serializers.UUIDField(
        required=False, allow_null=True, help_text="accept for this practice of yours: all its members read"
    )


class WindowSerializer(serializers.Serializer):
    first_night = serializers.DateField()
    last_night = serializers.DateField()
    cramps = serializers.IntegerField()
    cramp_nights = serializers.IntegerField()
    logged_nights = serializers.IntegerField()
    nights = serializers.IntegerField()
    rate_per_logged_night = serializers.FloatField(allow_null=True)
    enough_logged_for_rate = serializers.BooleanField(
        help_text="at least 70% of the nights logged; below that the clinician pages show no rate"
    )


class SharedPatientSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="this share's id; it names the patient in every clinician URL")
    email = serializers.EmailField()
    practice = serializers.CharField(allow_null=True, help_text="shared with this practice of yours; null: with you")
    scope = serializers.DictField(child=serializers.BooleanField())
    expires_at = serializers.DateTimeField()
    timezone = serializers.CharField()
    last_30_nights = WindowSerializer(allow_null=True)
    previous_30_nights = WindowSerializer(allow_null=True)
    red_flags = serializers.IntegerField(
        allow_null=True, help_text="E0/E1 escalations; null if insights are not shared"
    )
    worsening = serializers.BooleanField(allow_null=True)


class SharedPatientDetailSerializer(SharedPatientSerializer):
    profile = serializers.DictField()


class NotesInScopeMixin:
    """Free-text notes appear only when the patient shared them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        grant = self.context.get("grant")
        if grant is None or not grant.notes:
            self.fields.pop("notes", None)


class SharedEpisodeSerializer(NotesInScopeMixin, EpisodeSerializer):
    pass


class SharedCheckInSerializer(NotesInScopeMixin, CheckInSerializer):
    pass


class SharedMedicationSerializer(NotesInScopeMixin, MedicationCourseSerializer):
    pass


class SharedFindingSerializer(FindingSerializer):
    pass
