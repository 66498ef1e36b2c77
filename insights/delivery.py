"""Exactly one weekly email per person and week, whatever happens.

1. Plan (beat tick): people whose `digest_next_at` has passed get a
   DigestDelivery row for the week before it (unique per person and week) and
   their next send time moved on a week, in one transaction; rows still
   waiting for a (re)try are swept up again, so a lost task is never a lost
   email.
2. Send (worker): row by row, claim with a conditional UPDATE, send, mark sent
   (an ordinary commit), over one SMTP connection per batch. A second worker, a
   redelivered task or a second beat finds nothing to claim: a row is claimable
   only once its next attempt time has passed, so a retry waits out its backoff
   however many tasks name it. A worker that dies holds one row, the one it was
   sending, until its claim expires (DIGEST_CLAIM_SECONDS). SMTP failures retry
   with backoff and stop after MAX_ATTEMPTS ("abandoned", visible in the admin).
"""

import contextlib
import logging
from collections.abc import Iterator
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from diary.localtime import week_before
from diary.models import Profile

from . import refresh
from .digest import build_digests
from .emails import digest_message
from .models import DigestDelivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
Status = DigestDelivery.Status


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=5) * 2 ** max(attempts - 1, 0), timedelta(hours=6))


def lease() -> timedelta:
    """How long a claim holds a row before another worker may take it (its worker presumed dead)."""
    return timedelta(seconds=settings.DIGEST_CLAIM_SECONDS)


def eligible_profiles():
    """Opted in, active, with a verified address; a deleted account has no profile at all."""
    verified = EmailAddress.objects.filter(
        user_id=OuterRef("user_id"), email__iexact=OuterRef("user__email"), verified=True
    )
    return Profile.objects.filter(digest_enabled=True, user__is_active=True).filter(Exists(verified))


def claimable(now) -> Q:
    """Rows whose next attempt time has passed (new ones and retries after their backoff), and claims
    whose worker died (the lease ran out); never more than MAX_ATTEMPTS tries."""
    return Q(attempts__lt=MAX_ATTEMPTS) & (
        Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - lease())
    )


def plan(now=None) -> list[int]:
    """Create this tick's deliveries (up to DIGEST_PLAN_BATCH people); return every delivery id that
    should be attempted now."""
    if not settings.DIGESTS_ENABLED:
        return []
    now = now or timezone.now()
    _create_due(now)
    return _waiting(now)


def plan_all(now=None) -> Iterator[list[int]]:
    """Everyone due, in transactions of DIGEST_PLAN_BATCH people: each batch's ids are yielded as soon
    as it commits, so its emails can go out while the next batch is planned; each id once per call."""
    if not settings.DIGESTS_ENABLED:
        return
    now = now or timezone.now()
    seen: set[int] = set()
    while True:
        more = _create_due(now) == settings.DIGEST_PLAN_BATCH
        ids = [delivery_id for delivery_id in _waiting(now) if delivery_id not in seen]
        seen.update(ids)
        if ids:
            yield ids
        if not more:
            return


def _create_due(now) -> int:
    """One transaction: a delivery row for each due person and their next send time moved on a week;
    returns how many people were due (at most DIGEST_PLAN_BATCH)."""
    with transaction.atomic():
        due = list(
            eligible_profiles()
            .filter(digest_next_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("digest_next_at")[: settings.DIGEST_PLAN_BATCH]
        )
        # The week is computed once, here, from the due time: a retry covers the same week.
        DigestDelivery.objects.bulk_create(
            [
                DigestDelivery(user_id=p.user_id, week_start=week_before(p.digest_next_at, p.zone), next_attempt_at=now)
                for p in due
            ],
            ignore_conflicts=True,
        )
        # People in the same zone with the same day and hour share their next send time: one UPDATE each.
        moved: dict = {}
        for profile in due:
            profile.schedule_digest(after=max(now, profile.digest_next_at))
            moved.setdefault(profile.digest_next_at, []).append(profile.pk)
        for next_at, ids in moved.items():
            Profile.objects.filter(pk__in=ids).update(digest_next_at=next_at)
    return len(due)


def _waiting(now) -> list[int]:
    return list(DigestDelivery.objects.filter(claimable(now)).order_by("next_attempt_at").values_list("id", flat=True))


def claim(delivery_id: int, now, attempts: int | None = None) -> bool:
    """Move one claimable row to "sending"; True if this caller now owns it. With `attempts` (as the
    caller read the row), only if no other worker has tried it since."""
    rows = DigestDelivery.objects.filter(claimable(now), pk=delivery_id)
    if attempts is not None:
        rows = rows.filter(attempts=attempts)
    return rows.update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1) == 1


def send(delivery_id: int, now=None, connection=None) -> str:
    """Try one delivery; returns sent, skipped, failed, abandoned or not_claimed."""
    return send_batch([delivery_id], now=now, connection=connection)[delivery_id]


def send_batch(delivery_ids: list[int], now=None, connection=None) -> dict[int, str]:
    """Claim, send and mark each row in turn, over one SMTP connection kept open across the batch.
    The batch's diaries are read up front in a few queries; each email then costs two UPDATEs."""
    outcomes = dict.fromkeys(delivery_ids, "not_claimed")
    if not settings.DIGESTS_ENABLED:
        return outcomes
    rows, digests = _load(delivery_ids, now or timezone.now())
    connection = connection or get_connection()
    try:
        for delivery_id in delivery_ids:
            row, row_now = rows.get(delivery_id), now or timezone.now()
            if row is None or not claim(delivery_id, row_now, row.attempts):
                continue
            row.attempts += 1
            digest = digests.get(row.pk)
            if digest is None:
                gone = DigestDelivery.objects.filter(pk=row.pk)
                gone.update(status=Status.ABANDONED, last_error="no longer opted in")
                outcomes[delivery_id] = "skipped"
                continue
            try:
                message = digest_message(row.user, digest, row.pk, connection)
            except Exception as error:  # a rendering failure is retried, never lost
                outcomes[delivery_id] = _failed(row, error, row_now)
                continue
            try:
                # Opened by the first email; a no-op while open; reopens after a failed send closed it.
                connection.open()
            except Exception as error:  # the server is unreachable: the rest wait, unclaimed, for the next tick
                outcomes[delivery_id] = _failed(row, error, row_now)
                break
            try:
                message.send()
            except Exception as error:  # any SMTP failure is retried, never lost
                _close(connection)  # the session may be broken: the next email opens a new one
                outcomes[delivery_id] = _failed(row, error, row_now)
                continue
            DigestDelivery.objects.filter(pk=row.pk).update(
                status=Status.SENT, sent_at=timezone.now(), tip_id=digest.tip_id, last_error=""
            )
            outcomes[delivery_id] = "sent"
    finally:
        _close(connection)
    return outcomes


def _load(delivery_ids: list[int], now) -> tuple[dict, dict]:
    """The batch's claimable rows, and a digest for each whose person still wants one; the tip each
    person got the week before is passed in, so the rotation never repeats it."""
    rows = {
        row.pk: row for row in DigestDelivery.objects.filter(claimable(now), pk__in=delivery_ids).select_related("user")
    }
    wanted = set(
        eligible_profiles().filter(user_id__in=[r.user_id for r in rows.values()]).values_list("user_id", flat=True)
    )
    eligible = [row for row in rows.values() if row.user_id in wanted]
    previous = {(r.user_id, r.week_start - timedelta(days=7)) for r in eligible}
    sent = DigestDelivery.objects.filter(
        user_id__in={user for user, _ in previous}, week_start__in={week for _, week in previous}, status=Status.SENT
    ).values_list("user_id", "week_start", "tip_id")
    last_tips = {user: tip for user, week, tip in sent if (user, week) in previous}
    # An email never shows findings older than the diary: diaries written to since their last analysis
    # (a check-in just before the send time) are analysed now, as the next analysis tick would.
    refresh.analyse_and_store(refresh.changed_since_analysis([r.user_id for r in eligible]), now=now)
    digests = build_digests([(r.user_id, r.week_start) for r in eligible], last_tips)
    return rows, {r.pk: digests[(r.user_id, r.week_start)] for r in eligible}


def _close(connection) -> None:
    with contextlib.suppress(Exception):  # a broken session may fail to say goodbye
        connection.close()


def _failed(row: DigestDelivery, error: Exception, now) -> str:
    # row.attempts includes this attempt (counted by the claim).
    status = Status.ABANDONED if row.attempts >= MAX_ATTEMPTS else Status.FAILED
    DigestDelivery.objects.filter(pk=row.pk).update(
        status=status, last_error=f"{type(error).__name__}: {error}"[:2000], next_attempt_at=now + backoff(row.attempts)
    )
    log.warning("digest %s attempt %s failed: %s", row.pk, row.attempts, type(error).__name__)
    return "abandoned" if status == Status.ABANDONED else "failed"
