"""Exactly one weekly email per person and week, whatever happens.

1. Plan (beat tick): people whose `digest_next_at` has passed get a
   DigestDelivery row for the week before it (unique per person and week) and
   their next send time moved on a week, in one transaction; rows still
   waiting for a (re)try are swept up again, so a lost task is never a lost
   email.
2. Send (worker): claim the row with a conditional UPDATE, send, mark sent.
   A second worker, a redelivered task or a second beat finds nothing to
   claim. A row whose worker died mid-send is claimable again after a lease.
   SMTP failures retry with backoff and stop after MAX_ATTEMPTS ("abandoned",
   visible in the admin).
"""

import logging
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from diary.localtime import week_before
from diary.models import Profile

from .digest import build_digest
from .emails import digest_message
from .models import DigestDelivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)
Status = DigestDelivery.Status


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=5) * 2 ** max(attempts - 1, 0), timedelta(hours=6))


def eligible_profiles():
    """Opted in, active, with a verified address; a deleted account has no profile at all."""
    verified = EmailAddress.objects.filter(
        user_id=OuterRef("user_id"), email__iexact=OuterRef("user__email"), verified=True
    )
    return Profile.objects.filter(digest_enabled=True, user__is_active=True).filter(Exists(verified))


def plan(now=None) -> list[int]:
    """Create this tick's deliveries; return every delivery id that should be attempted now."""
    if not settings.DIGESTS_ENABLED:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            eligible_profiles()
            .filter(digest_next_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("digest_next_at")[: settings.DIGEST_PLAN_BATCH]
        )
        for profile in due:
            week_start = week_before(profile.digest_next_at, profile.zone)
            DigestDelivery.objects.get_or_create(
                user_id=profile.user_id, week_start=week_start, defaults={"next_attempt_at": now}
            )
            profile.schedule_digest(after=max(now, profile.digest_next_at))
        Profile.objects.bulk_update(due, ["digest_next_at"])
    waiting = DigestDelivery.objects.filter(attempts__lt=MAX_ATTEMPTS).filter(
        Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - LEASE)
    )
    return list(waiting.order_by("next_attempt_at").values_list("id", flat=True))


def claim(delivery_id: int, now) -> bool:
    claimable = Q(status__in=[Status.PENDING, Status.FAILED]) | Q(status=Status.SENDING, claimed_at__lt=now - LEASE)
    updated = DigestDelivery.objects.filter(claimable, pk=delivery_id, attempts__lt=MAX_ATTEMPTS).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return updated == 1


def send(delivery_id: int, now=None, connection=None) -> str:
    """Try one delivery; returns sent, skipped, failed, abandoned or not_claimed."""
    now = now or timezone.now()
    if not settings.DIGESTS_ENABLED or not claim(delivery_id, now):
        return "not_claimed"
    delivery = DigestDelivery.objects.select_related("user").get(pk=delivery_id)
    user = delivery.user
    if not eligible_profiles().filter(user_id=user.pk).exists():
        DigestDelivery.objects.filter(pk=delivery_id).update(status=Status.ABANDONED, last_error="no longer opted in")
        return "skipped"
    last_tip = (
        DigestDelivery.objects.filter(user=user, status=Status.SENT, week_start__lt=delivery.week_start)
        .order_by("-week_start")
        .values_list("tip_id", flat=True)
        .first()
    ) or ""
    try:
        digest = build_digest(user, delivery.week_start, last_tip)
        message = digest_message(user, digest, delivery.pk)
        message.connection = connection
        message.send(fail_silently=False)
    except Exception as error:  # any SMTP or rendering failure is retried, never lost
        attempts = delivery.attempts
        status = Status.ABANDONED if attempts >= MAX_ATTEMPTS else Status.FAILED
        DigestDelivery.objects.filter(pk=delivery_id).update(
            status=status, last_error=f"{type(error).__name__}: {error}"[:2000], next_attempt_at=now + backoff(attempts)
        )
        log.warning("digest %s attempt %s failed: %s", delivery_id, attempts, type(error).__name__)
        return "abandoned" if status == Status.ABANDONED else "failed"
    DigestDelivery.objects.filter(pk=delivery_id).update(
        status=Status.SENT, sent_at=timezone.now(), tip_id=digest.tip_id, last_error=""
    )
    return "sent"
