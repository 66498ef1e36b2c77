"""The reminder settings and push-device bodies of /api/v1/reminders/."""

import base64
import binascii
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from rest_framework import serializers

from cramptrack.json_types import StrictJSONTypes

from . import vapid
from .models import DigestDelivery, PushSubscription, ReminderDelivery, ReminderSettings
from .reminders import BACK_OFF_AFTER, channel_for, ignored_in_row, in_quiet_hours, save_settings, settings_for


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PushSubscription
        fields = ["id", "label", "created_at", "last_sent_at"]
        read_only_fields = fields


class ReminderSettingsSerializer(StrictJSONTypes, serializers.ModelSerializer):
    time = serializers.TimeField(format="%H:%M", help_text="local time of the morning reminder, HH:MM")
    quiet_start = serializers.TimeField(format="%H:%M")
    quiet_end = serializers.TimeField(format="%H:%M")
    second_nudge_hours = serializers.IntegerField(
        min_value=1, max_value=6, allow_null=True, help_text="hours after the first for a second nudge; null = none"
    )
    channel = serializers.SerializerMethodField(help_text='"push" (a device), "email" (the fallback) or "none"')
    backed_off = serializers.SerializerMethodField(
        help_text="true after several ignored reminders in a row: one a week until a night is answered"
    )
    ignored_in_row = serializers.SerializerMethodField()
    vapid_public_key = serializers.SerializerMethodField(help_text="applicationServerKey for pushManager.subscribe()")
    devices = DeviceSerializer(many=True, read_only=True, source="user.push_subscriptions")

    class Meta:
        model = ReminderSettings
        fields = [
            "enabled",
            "time",
            "second_nudge_hours",
            "quiet_start",
            "quiet_end",
            "email_fallback",
            "channel",
            "backed_off",
            "ignored_in_row",
            "vapid_public_key",
            "devices",
        ]

    def validate(self, attrs):
        def value(name):
            return attrs[name] if name in attrs else getattr(self.instance, name)

        start, end = value("quiet_start"), value("quiet_end")
        if in_quiet_hours(value("time"), start, end):
            raise serializers.ValidationError(
                {"time": f"This time is inside your quiet hours ({start:%H:%M}–{end:%H:%M})."}
            )
        return attrs

    def get_channel(self, obj) -> str:
        return channel_for(obj.user)

    def get_backed_off(self, obj) -> bool:
        return self._ignored(obj) >= BACK_OFF_AFTER

    def get_ignored_in_row(self, obj) -> int:
        return self._ignored(obj)

    def _ignored(self, obj) -> int:
        if not hasattr(self, "_ignored_count"):
            self._ignored_count = ignored_in_row([obj.user_id], datetime.now(UTC)).get(obj.user_id, (0, None))[0]
        return self._ignored_count

    def get_vapid_public_key(self, obj) -> str:
        return vapid.public_key()


class ExportedDeviceSerializer(serializers.ModelSerializer):
    """A device in the person's data export: never its endpoint or keys, the push service's credentials."""

    class Meta:
        model = PushSubscription
        fields = ["label", "created_at", "last_sent_at"]
        read_only_fields = fields


class ExportedReminderSerializer(serializers.ModelSerializer):
    time = serializers.TimeField(format="%H:%M")
    quiet_start = serializers.TimeField(format="%H:%M")
    quiet_end = serializers.TimeField(format="%H:%M")
    devices = ExportedDeviceSerializer(many=True, read_only=True, source="user.push_subscriptions")

    class Meta:
        model = ReminderSettings
        fields = ["enabled", "time", "second_nudge_hours", "quiet_start", "quiet_end", "email_fallback", "devices"]
        read_only_fields = fields


def exported_reminders(user) -> dict:
    """The "reminders" section of the person's JSON export (diary.exporter): their settings (the defaults
    if they never changed them) and devices."""
    reminder = ReminderSettings.objects.filter(user=user).first() or ReminderSettings(user=user)
    return dict(ExportedReminderSerializer(reminder).data)


def restore_reminders(user, data) -> None:
    """Read an export's "reminders" section back (diary.importer): the settings, validated as the API's
    PATCH validates them. Devices are not restored: their keys never leave the server, so each phone
    turns reminders on again, subscribing to this server's key."""
    if not isinstance(data, dict):
        raise serializers.ValidationError("The reminder settings must be an object.")
    instance = settings_for(user)
    writable = {name: value for name, value in data.items() if name in ExportedReminderSerializer.Meta.fields}
    serializer = ReminderSettingsSerializer(instance, data=writable, partial=True)
    serializer.is_valid(raise_exception=True)
    save_settings(serializer.save, instance)


def exported_sent(user) -> dict:
    """The "notifications_sent" section of the person's JSON export: every weekly email and reminder the
    service planned for them, what happened to it and when, newest first; what was sent is personal data
    too. Error texts stay out: they are the mail or push server's words, not the person's data."""
    return {
        "weekly_emails": list(
            DigestDelivery.objects.filter(user=user)
            .order_by("-week_start")
            .values("week_start", "kind", "status", "sent_at")
        ),
        "reminders": list(
            ReminderDelivery.objects.filter(user=user)
            .order_by("-night", "nudge")
            .values("night", "nudge", "channel", "status", "sent_at")
        ),
    }


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class KeysSerializer(StrictJSONTypes, serializers.Serializer):
    p256dh = serializers.CharField(max_length=100)
    auth = serializers.CharField(max_length=40)

    def validate_p256dh(self, value):
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64url(value))
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not a P-256 public key (base64url, uncompressed point).") from None
        return value

    def validate_auth(self, value):
        try:
            secret = _b64url(value)
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != 16:
            raise serializers.ValidationError("Not a 16-byte authentication secret (base64url).")
        return value


class SubscribeSerializer(StrictJSONTypes, serializers.Serializer):
    """The browser's PushSubscription.toJSON(), and an optional name for the device."""

    endpoint = serializers.URLField(max_length=1000)
    expirationTime = serializers.IntegerField(required=False, allow_null=True, min_value=0)  # noqa: N815 (the browser's name)
    keys = KeysSerializer()
    # The metaclass moves declared fields out of the class, so this never shadows Field.label; the stubs can't know.
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")  # type: ignore[assignment]

    def validate_endpoint(self, value):
        parts = urlsplit(value)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local and settings.PUSH_ALLOW_LOCAL_HTTP):
            raise serializers.ValidationError("A push endpoint must be an https:// URL.")
        return value

    def expires_at(self) -> datetime | None:
        millis = self.validated_data.get("expirationTime")
        return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis else None
