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
   with backoff and stop after MAX_ATTEMPTS ("abandoned", visible in the admin),
   except a mail server's permanent refusal of the address itself (user unknown):
   that row is "bounced" at once and no email goes to the address again until
   the person changes it or turns the email back on (the app tells them).
3. Pause: the email for the last of digest.PAUSE_AFTER empty weeks in a row says
   it is the last; once it is sent the person is paused (Profile.digest_paused)
   until their diary changes again.
"""

import contextlib
import logging
import re
import smtplib
from collections.abc import Iterator
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from diary.localtime import next_weekly, week_before
from diary.models import Profile
from insights import refresh

from . import claims
from .digest import PAUSE_AFTER, History, build_digests
from .emails import digest_message
from .models import DigestDelivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
Status = DigestDelivery.Status
Kind = DigestDelivery.Kind


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=5) * 2 ** max(attempts - 1, 0), timedelta(hours=6))


def lease() -> timedelta:
    """How long a claim holds a row before another worker may take it (its worker presumed dead)."""
    return timedelta(seconds=settings.DIGEST_CLAIM_SECONDS)


def eligible_profiles():
    """Opted in, active, with a verified address that has not bounced, and not paused (or written to since);
    a deleted account has no profile at all."""
    verified = EmailAddress.objects.filter(
        user_id=OuterRef("user_id"), email__iexact=OuterRef("user__email"), verified=True
    )
    return (
        Profile.objects.filter(digest_enabled=True, user__is_active=True)
        .filter(Exists(verified))
        .exclude(email_bounced_address=F("user__email"))
        .filter(Q(digest_paused_at__isnull=True) | Q(diary_changed_at__gt=F("digest_paused_at")))
    )


def claimable(now) -> Q:
    return claims.claimable(now, MAX_ATTEMPTS, lease())


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
    yield from claims.plan_in_batches(lambda: _create_due(now), settings.DIGEST_PLAN_BATCH, lambda: _waiting(now))


def _create_due(now) -> int:
    """One transaction: a delivery row for each due person and their next send time moved on a week;
    returns how many people were due (at most DIGEST_PLAN_BATCH)."""
    with transaction.atomic():
        due = list(
            eligible_profiles()
            .filter(digest_next_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("digest_next_at", "pk")[: settings.DIGEST_PLAN_BATCH]
        )
        # The week is computed once, here, from the due time: a retry covers the same week.
        DigestDelivery.objects.bulk_create(
            [DigestDelivery(user_id=p.user_id, week_start=_week_due(p, now), next_attempt_at=now) for p in due],
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


def _week_due(profile: Profile, now) -> date:
    """The week a due email covers: the week before its due time, or for someone held back past a later one
    (paused, unverified, bounced or opted out for a while), the week before the latest due time."""
    zone, weekday, hour = profile.zone, profile.digest_weekday, profile.digest_hour
    latest = next_weekly(now - timedelta(days=8), zone, weekday, hour)
    while (later := next_weekly(latest, zone, weekday, hour)) <= now:
        latest = later
    return week_before(max(profile.digest_next_at or latest, latest), zone)


def _waiting(now) -> list[int]:
    return claims.waiting(DigestDelivery, claimable(now))


def claim(delivery_id: int, now, attempts: int | None = None) -> bool:
    return claims.claim(DigestDelivery, delivery_id, claimable(now), now, attempts)


def send(delivery_id: int, now=None, connection=None) -> str:
    """Try one delivery; returns sent, skipped, failed, abandoned, bounced or not_claimed."""
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
            if digests.get(row.pk) is None:
                why = "the week ended before the diary began" if row.pk in digests else "no longer wanted"
                DigestDelivery.objects.filter(pk=row.pk).update(status=Status.SKIPPED, last_error=why)
                outcomes[delivery_id] = "skipped"
                continue
            digest = digests[row.pk]
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
            except Exception as error:  # any SMTP failure is retried, never lost, unless the address is gone
                if address_refused(error):  # smtplib reset the session: it carries on with the next email
                    outcomes[delivery_id] = _bounced(row, error, row_now)
                    continue
                _close(connection)  # the session may be broken: the next email opens a new one
                outcomes[delivery_id] = _failed(row, error, row_now)
                continue
            _sent(row, digest)
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
    history = _history([(r.user_id, r.week_start) for r in eligible])
    # An email never shows findings older than the diary: diaries written to since their last analysis
    # (a check-in just before the send time) are analysed now, as the next analysis tick would.
    refresh.analyse_and_store(refresh.changed_since_analysis([r.user_id for r in eligible]), now=now)
    digests = build_digests([(r.user_id, r.week_start) for r in eligible], history)
    return rows, {r.pk: digests[(r.user_id, r.week_start)] for r in eligible}


def _history(wanted: list[tuple[int, date]]) -> dict[tuple[int, date], History]:
    """For each (person, week): the tip sent the week before, and how many "missed" emails went out for the
    weeks just before it (PAUSE_AFTER - 1 at most matter)."""
    if not wanted:
        return {}
    sent = {
        (user, week): (tip, kind)
        for user, week, tip, kind in DigestDelivery.objects.filter(
            user_id__in={user for user, _ in wanted},
            week_start__gte=min(week for _, week in wanted) - timedelta(days=7 * PAUSE_AFTER),
            week_start__lt=max(week for _, week in wanted),
            status=Status.SENT,
        ).values_list("user_id", "week_start", "tip_id", "kind")
    }

    def earlier(user: int, week: date, weeks: int) -> tuple[str, str]:
        return sent.get((user, week - timedelta(days=7 * weeks)), ("", ""))

    history = {}
    for user, week in wanted:
        missed = 0
        while missed < PAUSE_AFTER and earlier(user, week, missed + 1)[1] == Kind.MISSED:
            missed += 1
        history[(user, week)] = History(earlier(user, week, 1)[0], missed)
    return history


def _sent(row: DigestDelivery, digest) -> None:
    sent = DigestDelivery.objects.filter(pk=row.pk)
    if digest.kind != Kind.PAUSED:
        sent.update(status=Status.SENT, sent_at=timezone.now(), tip_id=digest.tip_id, kind=digest.kind, last_error="")
        return
    with transaction.atomic():  # the email that says so, and the pause itself
        sent.update(status=Status.SENT, sent_at=timezone.now(), tip_id=digest.tip_id, kind=digest.kind, last_error="")
        Profile.objects.filter(user_id=row.user_id).update(digest_paused_at=timezone.now())


# The address itself is gone: enhanced status 5.1.x (bad mailbox, domain or syntax; 5.1.7 and 5.1.8 are
# about the sender, so ours to fix) or 5.2.1 (mailbox disabled); without one, a 550, 551 or 553 reply.
# A policy refusal (5.7.x, relaying denied) may be this server's misconfiguration: that is retried.
_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def address_refused(error: Exception) -> bool:
    """A mail server's permanent refusal of the recipient's address (user unknown), at RCPT TO or DATA."""
    replies: list[tuple[int, bytes | str]]
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
    elif isinstance(error, smtplib.SMTPDataError):
        replies = [(error.smtp_code, error.smtp_error)]
    else:
        return False
    return bool(replies) and all(_mailbox_gone(code, text) for code, text in replies)


def _mailbox_gone(code: int, text: bytes | str) -> bool:
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if not 500 <= code < 600:
        return False
    enhanced = _ENHANCED.match(text)
    if enhanced is None:
        return code in (550, 551, 553)
    klass, subject, detail = enhanced.groups()
    return klass == "5" and ((subject == "1" and detail not in ("7", "8")) or (subject, detail) == ("2", "1"))


def _bounced(row: DigestDelivery, error: Exception, now) -> str:
    """No retry can help: this email is given up and the address suppressed until the person acts."""
    with transaction.atomic():
        DigestDelivery.objects.filter(pk=row.pk).update(
            status=Status.BOUNCED, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        Profile.objects.filter(user_id=row.user_id).update(email_bounced_address=row.user.email, email_bounced_at=now)
    log.warning("digest %s bounced: the address was refused for good", row.pk)
    return "bounced"


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
