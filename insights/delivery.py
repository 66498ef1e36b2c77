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
from collections.abc import Iterator
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from diary.localtime import week_before
from diary.models import Profile

from .digest import build_digests
from .emails import digest_message
from .models import DigestDelivery
from .wire import Wire

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
        for profile in due:
            profile.schedule_digest(after=max(now, profile.digest_next_at))
        # One UPDATE from two arrays: bulk_update's CASE per row was most of a tick's time.
        with db_connection.cursor() as cursor:
            cursor.execute(
                "UPDATE diary_profile SET digest_next_at = moved.next_at"
                " FROM unnest(%s::bigint[], %s::timestamptz[]) AS moved(id, next_at) WHERE diary_profile.id = moved.id",
                [[p.pk for p in due], [p.digest_next_at for p in due]],
            )
    return len(due)


def _waiting(now) -> list[int]:
    """New rows, retries whose backoff has passed, and claims whose worker died (the lease expired)."""
    waiting = DigestDelivery.objects.filter(attempts__lt=MAX_ATTEMPTS).filter(
        Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - LEASE)
    )
    return list(waiting.order_by("next_attempt_at").values_list("id", flat=True))


def claim_many(delivery_ids: list[int], now) -> list[int]:
    """Move claimable rows to "sending"; returns the ids this caller now owns."""
    claimable = Q(status__in=[Status.PENDING, Status.FAILED]) | Q(status=Status.SENDING, claimed_at__lt=now - LEASE)
    with transaction.atomic():
        ids = list(
            DigestDelivery.objects.select_for_update(skip_locked=True)
            .filter(claimable, pk__in=delivery_ids, attempts__lt=MAX_ATTEMPTS)
            .values_list("pk", flat=True)
        )
        DigestDelivery.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def claim(delivery_id: int, now) -> bool:
    return bool(claim_many([delivery_id], now))


def send(delivery_id: int, now=None, connection=None) -> str:
    """Try one delivery; returns sent, skipped, failed, abandoned or not_claimed."""
    return send_batch([delivery_id], now=now, connection=connection)[delivery_id]


def send_batch(delivery_ids: list[int], now=None, connection=None) -> dict[int, str]:
    """Claim, build and send a batch over one SMTP session; each row is marked sent right after the
    server accepted its email, which is read once the next email is built (insights/wire.py)."""
    now = now or timezone.now()
    outcomes = dict.fromkeys(delivery_ids, "not_claimed")
    if not settings.DIGESTS_ENABLED:
        return outcomes
    rows = list(DigestDelivery.objects.filter(pk__in=claim_many(delivery_ids, now)).select_related("user"))
    if not rows:
        return outcomes
    eligible = set(eligible_profiles().filter(user_id__in=[r.user_id for r in rows]).values_list("user_id", flat=True))
    gone = [r.pk for r in rows if r.user_id not in eligible]
    if gone:
        DigestDelivery.objects.filter(pk__in=gone).update(status=Status.ABANDONED, last_error="no longer opted in")
        outcomes.update(dict.fromkeys(gone, "skipped"))
    rows = [r for r in rows if r.user_id in eligible]
    digests = build_digests([(r.user_id, r.week_start) for r in rows], _last_tips(rows))
    wire = Wire(connection or get_connection())
    try:
        # Opened here, the backend keeps one SMTP session for the batch (else one per message).
        wire.open()
    except Exception as error:  # server down: every row is retried by a later tick
        outcomes.update({row.pk: _failed(row, error, now) for row in rows})
        return outcomes
    try:
        _send_rows(wire, rows, digests, outcomes, now)
    finally:
        wire.close()
    return outcomes


def _send_rows(wire: Wire, rows: list[DigestDelivery], digests: dict, outcomes: dict, now) -> None:
    in_flight = None  # the row whose email is on the wire, the server's reply not read yet
    for row in rows:
        digest = digests[(row.user_id, row.week_start)]
        try:
            # Rendered and built while the server still works on the previous email.
            envelope = wire.prepare(digest_message(row.user, digest, row.pk))
        except Exception as error:  # a rendering failure is retried, never lost
            outcomes[row.pk] = _failed(row, error, now)
            continue
        if in_flight is not None:
            outcomes[in_flight[0].pk] = _confirm(wire, *in_flight, now)
            in_flight = None
        try:
            wire.send(envelope)
        except Exception as error:  # any SMTP failure is retried, never lost
            outcomes[row.pk] = _failed(row, error, now)
            wire.close()  # a broken session is reopened by the next send
            continue
        in_flight = (row, digest)
    if in_flight is not None:
        outcomes[in_flight[0].pk] = _confirm(wire, *in_flight, now)


def _confirm(wire: Wire, row: DigestDelivery, digest, now) -> str:
    """Read the server's verdict on this row's email, then mark it sent (or failed, to retry)."""
    try:
        wire.confirm()
    except Exception as error:
        wire.close()
        return _failed(row, error, now)
    _mark_sent(row.pk, digest.tip_id)
    return "sent"


# set_config(..., true) is SET LOCAL as an expression: asynchronous commit for this
# transaction only, which in autocommit is this one statement (one round trip).
MARK_SENT = (
    "UPDATE insights_digestdelivery SET status = %s, sent_at = %s, tip_id = %s, last_error = ''"
    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit WHERE id = %s"
)


def _mark_sent(delivery_id: int, tip_id: str) -> None:
    """Record one accepted email, right after the SMTP server took it.

    The commit is asynchronous (SET LOCAL synchronous_commit TO OFF): it returns once the
    row is in PostgreSQL's memory instead of waiting for the WAL flush, a large part of
    each email's time before. The mark is visible to every worker at once and survives
    any crash of this process, so an application crash still leaves at most one email
    sent but not marked (the one in flight), as before. Only a crash of PostgreSQL itself
    (or of its host) can lose the marks of its last moments (at most 3 x wal_writer_delay, 0.6 s by
    default); those rows stay "sending" and are sent once more after the lease. A lost
    mark can repeat an email, never lose one.
    """
    with db_connection.cursor() as cursor:
        cursor.execute(MARK_SENT, [Status.SENT, timezone.now(), tip_id, delivery_id])


def _last_tips(rows: list[DigestDelivery]) -> dict[int, str]:
    """The tip each person got the week before, so the rotation never repeats it."""
    previous = {(r.user_id, r.week_start - timedelta(days=7)) for r in rows}
    sent = DigestDelivery.objects.filter(
        user_id__in={user for user, _ in previous},
        week_start__in={week for _, week in previous},
        status=Status.SENT,
    ).values_list("user_id", "week_start", "tip_id")
    return {user: tip for user, week, tip in sent if (user, week) in previous}


def _failed(row: DigestDelivery, error: Exception, now) -> str:
    status = Status.ABANDONED if row.attempts >= MAX_ATTEMPTS else Status.FAILED
    DigestDelivery.objects.filter(pk=row.pk).update(
        status=status, last_error=f"{type(error).__name__}: {error}"[:2000], next_attempt_at=now + backoff(row.attempts)
    )
    log.warning("digest %s attempt %s failed: %s", row.pk, row.attempts, type(error).__name__)
    return "abandoned" if status == Status.ABANDONED else "failed"
