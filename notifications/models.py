"""What was sent to whom and when: the rows that make every scheduled notification exactly-once."""

from django.conf import settings
from django.db import models


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
