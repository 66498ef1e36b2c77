"""What was sent to whom and when: the rows that make every scheduled notification exactly-once."""

from datetime import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from diary.localtime import next_daily


class DigestDelivery(models.Model):
    """One weekly email for one person and one week; the unique row is the exactly-once guard.

    Claim, then send: a worker moves a row to "sending" with a conditional UPDATE
    before talking to SMTP, and to "sent" right after, so a second worker, a
    retried task or a second beat finds nothing to do.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will retry"
        ABANDONED = "abandoned", "Gave up after repeated failures"
        BOUNCED = "bounced", "Address refused for good; no more emails to it"
        SKIPPED = "skipped", "Not sent: opted out since, or a week before the diary began"

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome: the diary's first week"
        WEEK = "week", "The week in numbers"
        MISSED = "missed", "Nothing logged this week"
        PAUSED = "paused", "Nothing logged again: the last one until the diary changes"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    week_start = models.DateField(help_text="local Monday of the week covered")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    tip_id = models.CharField(max_length=64, blank=True, help_text="the rotating tip sent, so the next week differs")
    kind = models.CharField(max_length=8, choices=Kind.choices, blank=True, help_text="which email was sent")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_start"]
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="one_digest_per_user_and_week")]
        indexes = [
            # The sweeper: deliveries waiting for a (re)try.
            models.Index(fields=["status", "next_attempt_at"], name="digest_status_next_attempt"),
        ]

    def __str__(self):
        return f"digest for {self.user_id}, week of {self.week_start}: {self.status}"


def _eight_am() -> time:
    return time(8, 0)


def _quiet_start() -> time:
    return time(22, 0)


def _quiet_end() -> time:
    return time(7, 0)


class ReminderSettings(models.Model):
    """One person's morning check-in reminder: when, how often and by which channel (off until turned on)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_settings")
    enabled = models.BooleanField(default=False)
    time = models.TimeField(default=_eight_am, help_text="local time of the morning reminder")
    # A second, later nudge the same morning, only if the night is still unanswered; off unless asked for.
    second_nudge_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    # Local hours in which nothing is sent (a late retry or nudge is skipped, not sent); may wrap midnight.
    quiet_start = models.TimeField(default=_quiet_start)
    quiet_end = models.TimeField(default=_quiet_end)
    email_fallback = models.BooleanField(default=False, help_text="email the reminder when no device can get it")
    # The next reminder's time in UTC, computed on the local calendar (diary.localtime.next_daily) so it
    # stays at the local time across DST; the planner's "who is due" is one indexed comparison on it.
    next_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self):
        return f"reminders of {self.user_id}: {'on' if self.enabled else 'off'} at {self.time:%H:%M}"

    def schedule(self, zone: ZoneInfo, after=None) -> None:
        """The next reminder time from the local time and zone; none while reminders are off."""
        self.next_at = next_daily(after or timezone.now(), zone, self.time) if self.enabled else None


class PushSubscription(models.Model):
    """One device's Web Push subscription (the browser's PushSubscription), removed when the push service
    says it is gone (404/410) or the person turns the device off."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    # Unique: the push service's URL is the device's identity; subscribing again updates the row.
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=100, help_text="the device's P-256 public key, base64url")
    auth = models.CharField(max_length=40, help_text="the device's authentication secret, base64url")
    label = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        # The person's devices (the API's list and every reminder's fan-out): user_id's foreign-key index.

    def __str__(self):
        return f"push device {self.pk} of {self.user_id}"


class ReminderDelivery(models.Model):
    """One reminder for one person, night and nudge (1 = the morning one, 2 = the later nudge); the unique
    row is the exactly-once guard, claimed, sent and marked like DigestDelivery."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will retry"
        ABANDONED = "abandoned", "Gave up after repeated failures"
        SKIPPED = "skipped", "Not sent: answered, backed off, too late, quiet hours or no channel"

    class Channel(models.TextChoices):
        PUSH = "push", "Web Push"
        EMAIL = "email", "Email"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    night = models.DateField(help_text="the check-in date asked about (the night that just ended)")
    nudge = models.PositiveSmallIntegerField(default=1)
    due_at = models.DateTimeField(help_text="when it should arrive; later than REMINDER_LATE_MINUTES it is skipped")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-night", "nudge"]
        constraints = [
            models.UniqueConstraint(fields=["user", "night", "nudge"], name="one_reminder_per_user_night_nudge"),
        ]
        indexes = [
            # The sweeper: reminders waiting for a (re)try.
            models.Index(fields=["status", "next_attempt_at"], name="reminder_status_next_attempt"),
            # A person's sent reminders, newest first: the ignored-in-a-row count and the backoff.
            models.Index(fields=["user", "status", "-sent_at"], name="reminder_user_status_sent"),
        ]

    def __str__(self):
        return f"reminder {self.nudge} for {self.user_id}, night of {self.night}: {self.status}"
