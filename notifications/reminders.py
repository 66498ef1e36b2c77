"""The morning check-in reminder: exactly once, on time, in the person's zone, and only when useful.

1. Plan (beat, every minute): people whose `ReminderSettings.next_at` has passed get a ReminderDelivery row
   for last night (and one for the later nudge if they asked for it), unique per person, night and nudge,
   and their next time moved on a day, in one transaction; rows waiting for a (re)try are swept up again.
2. Send (worker): row by row, claim with a conditional UPDATE, send, mark sent, as the weekly email does
   (notifications.claims, shared with it): a second beat, a retried task or a redelivered one finds nothing to claim; a
   killed worker's claim runs out after REMINDER_CLAIM_SECONDS. Failures retry with backoff, MAX_ATTEMPTS.
3. Only when useful, decided at send time: no reminder for a night already answered (a check-in that says
   whether there were cramps, or a cramp logged that night), none that would arrive over
   REMINDER_LATE_MINUTES late or inside quiet hours (skipped, never sent late), the later nudge only if the
   first went out, and after BACK_OFF_AFTER ignored reminders in a row one a week until a night is answered.
4. Channel: Web Push to every device of the person; without one, an email if they chose the fallback and
   their address is verified and has not bounced.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import requests
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from diary.localtime import next_daily
from diary.models import CheckIn, Episode, Profile

from . import claims, push
from .models import PushSubscription, ReminderDelivery, ReminderSettings
from .reminder_email import reminder_message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACK_OFF_AFTER = 5  # ignored reminders in a row before backing off to one a week
BACKED_OFF_DAYS = 7
# How far back the ignored-in-a-row count looks: more than BACK_OFF_AFTER weekly reminders.
STREAK_WINDOW_DAYS = 60
NAMESPACE = uuid.UUID("5b0d7c8e-3f6a-4c1e-9a57-2d1b8e4f6c30")
Status = ReminderDelivery.Status
Channel = ReminderDelivery.Channel


def in_quiet_hours(at: time, start: time, end: time) -> bool:
    """Whether a local time falls in quiet hours [start, end), which may wrap midnight; start == end is none."""
    if start == end:
        return False
    return start <= at < end if start < end else at >= start or at < end


def checkin_uuid(user_id: int, night: date) -> uuid.UUID:
    """The check-in's id when the reminder email's link creates the night's row. The write is an upsert by
    date, as the app's, so whichever answers first makes the row and the other merges into it."""
    return uuid.uuid5(NAMESPACE, f"{user_id}:{night.isoformat()}")


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=1) * 2 ** max(attempts - 1, 0), timedelta(minutes=30))


def lease() -> timedelta:
    return timedelta(seconds=settings.REMINDER_CLAIM_SECONDS)


# --- Settings -------------------------------------------------------------------------------------------


def settings_for(user) -> ReminderSettings:
    return ReminderSettings.objects.get_or_create(user=user)[0]


def save_settings(save: Callable, instance: ReminderSettings) -> None:
    """Save changed settings and move the next reminder to the (new) local time."""
    with transaction.atomic():
        save()
        instance.schedule(Profile.objects.get(user_id=instance.user_id).zone)
        ReminderSettings.objects.filter(pk=instance.pk).update(next_at=instance.next_at)


def follow_zone(sender, instance: Profile, raw: bool = False, update_fields=None, **kwargs) -> None:
    """Profile post_save: a changed zone moves the next reminder to the new zone's local time at once. Left to
    the planner, it would wait for the old zone's instant, find it stale and move to the next day, so a move
    east lost the morning that came round in the new zone before the old zone's time."""
    if raw or (update_fields is not None and "timezone" not in update_fields):
        return
    zone = instance.zone
    for reminder in ReminderSettings.objects.filter(user_id=instance.user_id, enabled=True, next_at__isnull=False):
        assert reminder.next_at is not None  # filtered above
        if next_daily(reminder.next_at - timedelta(seconds=1), zone, reminder.time) != reminder.next_at:
            # Conditional: a planner that moved it meanwhile wins (its stale zone is caught at the next plan).
            ReminderSettings.objects.filter(pk=reminder.pk, next_at=reminder.next_at).update(
                next_at=next_daily(timezone.now(), zone, reminder.time)
            )


def email_reachable(user_ids) -> set[int]:
    """People whose address can take a reminder: active, verified, and not the one that bounced."""
    verified = EmailAddress.objects.filter(
        user_id=OuterRef("user_id"), email__iexact=OuterRef("user__email"), verified=True
    )
    return set(
        Profile.objects.filter(user_id__in=user_ids, user__is_active=True)
        .filter(Exists(verified))
        .exclude(email_bounced_address=F("user__email"))
        .values_list("user_id", flat=True)
    )


def channel_for(user) -> str:
    if PushSubscription.objects.filter(user=user).exists():
        return Channel.PUSH
    reminder = settings_for(user)
    if reminder.email_fallback and user.pk in email_reachable([user.pk]):
        return Channel.EMAIL
    return "none"


def ignored_in_row(user_ids, now) -> dict[int, tuple[int, datetime | None]]:
    """For each person: how many reminders went out since their last answer (all unanswered, since an answer
    to any night resets the count), and when the latest went out."""
    since = now - timedelta(days=STREAK_WINDOW_DAYS)
    answered: dict[int, datetime] = {}
    for rows in (
        CheckIn.objects.filter(user_id__in=user_ids, date__gte=since.date(), no_cramps__isnull=False),
        Episode.objects.filter(user_id__in=user_ids, night__gte=since.date()),
    ):
        for user_id, latest in (
            rows.values("user_id").annotate(latest=Max("updated_at")).values_list("user_id", "latest")
        ):
            answered[user_id] = max(latest, answered.get(user_id, latest))
    streaks: dict[int, tuple[int, datetime | None]] = {}
    sent = ReminderDelivery.objects.filter(user_id__in=user_ids, status=Status.SENT, nudge=1, sent_at__gte=since)
    for user_id, sent_at in sent.values_list("user_id", "sent_at"):
        if sent_at is None or (user_id in answered and sent_at <= answered[user_id]):
            continue
        count, latest = streaks.get(user_id, (0, None))
        streaks[user_id] = (count + 1, max(sent_at, latest) if latest else sent_at)
    return streaks


# --- Plan -----------------------------------------------------------------------------------------------


def claimable(now) -> Q:
    return claims.claimable(now, MAX_ATTEMPTS, lease())


def plan_all(now=None) -> Iterator[list[int]]:
    """Everyone due, in transactions of REMINDER_PLAN_BATCH people; each batch's claimable ids are yielded
    as soon as it commits, so its reminders go out while the next batch is planned; each id once per call."""
    if not settings.REMINDERS_ENABLED:
        return
    now = now or timezone.now()
    yield from claims.plan_in_batches(lambda: _create_due(now), settings.REMINDER_PLAN_BATCH, lambda: _waiting(now))


def _create_due(now) -> int:
    with transaction.atomic():
        due = list(
            ReminderSettings.objects.filter(enabled=True, next_at__lte=now, user__is_active=True)
            .select_related("user__profile")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_at", "pk")[: settings.REMINDER_PLAN_BATCH]
        )
        rows, moved = [], defaultdict(list)
        for reminder in due:
            zone, due_at = reminder.user.profile.zone, reminder.next_at
            assert due_at is not None  # filtered above
            moved[next_daily(max(now, due_at), zone, reminder.time)].append(reminder.pk)
            if next_daily(due_at - timedelta(seconds=1), zone, reminder.time) != due_at:
                continue  # scheduled in a zone the person has left since: next time, their new zone's
            # The night asked about is the one that ended this local morning: the check-in date before it.
            night = due_at.astimezone(zone).date() - timedelta(days=1)
            rows.append(ReminderDelivery(user_id=reminder.user_id, night=night, due_at=due_at, next_attempt_at=due_at))
            if reminder.second_nudge_hours:
                later = due_at + timedelta(hours=reminder.second_nudge_hours)
                rows.append(
                    ReminderDelivery(
                        user_id=reminder.user_id, night=night, nudge=2, due_at=later, next_attempt_at=later
                    )
                )
        # A row that exists (a second beat, a time changed after this morning's reminder) stays as it is.
        ReminderDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        for next_at, ids in moved.items():  # people in one zone at one time share an UPDATE
            ReminderSettings.objects.filter(pk__in=ids).update(next_at=next_at)
    return len(due)


def _waiting(now) -> list[int]:
    return claims.waiting(ReminderDelivery, claimable(now))


# --- Send -----------------------------------------------------------------------------------------------


def claim(delivery_id: int, now, attempts: int) -> bool:
    """Move one claimable row to "sending", if no other worker has tried it since the caller read it."""
    return claims.claim(ReminderDelivery, delivery_id, claimable(now), now, attempts)


@dataclass
class Batch:
    """What the batch's decisions need, read up front in a few queries."""

    settings: dict[int, ReminderSettings]
    devices: dict[int, list[PushSubscription]]
    answered: set[tuple[int, date]]
    streaks: dict[int, tuple[int, datetime | None]]
    first_sent: set[tuple[int, date]]
    email_ok: set[int]


def _load(rows: list[ReminderDelivery], now) -> Batch:
    users = {r.user_id for r in rows}
    nights = {r.night for r in rows}
    devices: dict[int, list[PushSubscription]] = defaultdict(list)
    for device in PushSubscription.objects.filter(user_id__in=users):
        devices[device.user_id].append(device)
    answered = set(
        CheckIn.objects.filter(user_id__in=users, date__in=nights, no_cramps__isnull=False).values_list(
            "user_id", "date"
        )
    ) | set(Episode.objects.filter(user_id__in=users, night__in=nights).values_list("user_id", "night"))
    first_sent = set(
        ReminderDelivery.objects.filter(user_id__in=users, night__in=nights, nudge=1, status=Status.SENT).values_list(
            "user_id", "night"
        )
    )
    reminders = {s.user_id: s for s in ReminderSettings.objects.filter(user_id__in=users)}
    fallback = [user for user, reminder in reminders.items() if reminder.email_fallback]
    return Batch(
        settings=reminders,
        devices=devices,
        answered=answered,
        streaks=ignored_in_row(users, now),
        first_sent=first_sent,
        email_ok=email_reachable(fallback) if fallback else set(),
    )


def skip_reason(row: ReminderDelivery, batch: Batch, now) -> str:
    """Why this reminder should not go out now; "" if it should."""
    reminder = batch.settings.get(row.user_id)
    if reminder is None or not reminder.enabled or (row.nudge == 2 and not reminder.second_nudge_hours):
        return "turned off"
    if now > row.due_at + timedelta(minutes=settings.REMINDER_LATE_MINUTES):
        return "too late"
    if in_quiet_hours(now.astimezone(row.user.profile.zone).time(), reminder.quiet_start, reminder.quiet_end):
        return "quiet hours"
    if (row.user_id, row.night) in batch.answered:
        return "answered"
    if row.nudge == 2 and (row.user_id, row.night) not in batch.first_sent:
        return "first reminder not sent"
    ignored, last_sent = batch.streaks.get(row.user_id, (0, None))
    if (
        row.nudge == 1
        and ignored >= BACK_OFF_AFTER
        and last_sent
        and now - last_sent < timedelta(days=BACKED_OFF_DAYS) - timedelta(hours=1)
    ):
        return "backed off"
    if not batch.devices.get(row.user_id) and not (reminder.email_fallback and row.user_id in batch.email_ok):
        return "no device or email"
    return ""


def payload(row: ReminderDelivery) -> dict:
    night = row.night.isoformat()
    return {
        "type": "checkin",
        "night": night,
        "user": str(row.user_id),  # whose night: a phone shared after a logout must not answer it for another
        "title": "Any cramps last night?",
        "body": "One tap answers it: a night without an answer is missing from your patterns.",
        "tag": f"checkin-{night}",
        "url": f"/checkin/?morning&date={night}",
    }


def ttl(row: ReminderDelivery, reminder: ReminderSettings, now) -> int:
    """How long the push service may hold it for a phone that is off: never past REMINDER_LATE_MINUTES after
    its time (a retry gets what is left, not the whole window again), nor into the person's quiet hours."""
    until = row.due_at + timedelta(minutes=settings.REMINDER_LATE_MINUTES)
    if reminder.quiet_start != reminder.quiet_end:
        until = min(until, next_daily(now, row.user.profile.zone, reminder.quiet_start))
    return max(int((until - now).total_seconds()), 0)


def send(delivery_id: int, now=None) -> str:
    return send_batch([delivery_id], now=now)[delivery_id]


def send_batch(delivery_ids: list[int], now=None, session: requests.Session | None = None) -> dict[int, str]:
    """Claim, send and mark each row in turn; one HTTP session (and one SMTP connection, if any email goes)
    per batch. Returns each id's outcome: sent, skipped, failed, abandoned or not_claimed."""
    outcomes = dict.fromkeys(delivery_ids, "not_claimed")
    if not settings.REMINDERS_ENABLED:
        return outcomes
    read_at = now or timezone.now()
    rows = list(
        ReminderDelivery.objects.filter(claimable(read_at), pk__in=delivery_ids).select_related("user__profile")
    )
    if not rows:
        return outcomes
    batch = _load(rows, read_at)
    session = session or push.new_session()
    mail, stamped = None, []  # devices that took a reminder: stamped once, at the end of the batch
    try:
        for row in rows:
            row_now = now or timezone.now()
            if not claim(row.pk, row_now, row.attempts):
                continue
            row.attempts += 1
            if why := skip_reason(row, batch, row_now):
                ReminderDelivery.objects.filter(pk=row.pk).update(status=Status.SKIPPED, last_error=why)
                outcomes[row.pk] = "skipped"
                continue
            devices = batch.devices.get(row.user_id, [])
            if devices:
                outcome = push.send(devices, payload(row), session, ttl=ttl(row, batch.settings[row.user_id], row_now))
                gone = set(outcome.gone)
                batch.devices[row.user_id] = [d for d in devices if d.pk not in gone]
                if outcome.delivered:
                    outcomes[row.pk] = _sent(row, Channel.PUSH, row_now)
                    stamped.extend(outcome.delivered)
                    continue
                if outcome.errors:
                    outcomes[row.pk] = _failed(row, "; ".join(outcome.errors), row_now)
                    continue
            # No device (or every one gone): the email, if chosen and the address is good.
            reminder = batch.settings[row.user_id]
            if not (reminder.email_fallback and row.user_id in batch.email_ok):
                ReminderDelivery.objects.filter(pk=row.pk).update(
                    status=Status.SKIPPED, last_error="no device or email"
                )
                outcomes[row.pk] = "skipped"
                continue
            try:
                mail = mail or get_connection()
                reminder_message(row.user, row.night, row.pk, mail).send()
            except Exception as error:  # any SMTP failure is retried, never lost
                outcomes[row.pk] = _failed(row, f"{type(error).__name__}: {error}", row_now)
                continue
            outcomes[row.pk] = _sent(row, Channel.EMAIL, row_now)
    finally:
        push.stamp(stamped, now or timezone.now())
        if mail is not None:
            mail.close()
    return outcomes


def _sent(row: ReminderDelivery, channel: str, now) -> str:
    ReminderDelivery.objects.filter(pk=row.pk).update(status=Status.SENT, sent_at=now, channel=channel, last_error="")
    return "sent"


def _failed(row: ReminderDelivery, error: str, now) -> str:
    # row.attempts includes this attempt (counted by the claim).
    status = Status.ABANDONED if row.attempts >= MAX_ATTEMPTS else Status.FAILED
    ReminderDelivery.objects.filter(pk=row.pk).update(
        status=status, last_error=error[:2000], next_attempt_at=now + backoff(row.attempts)
    )
    log.warning("reminder %s attempt %s failed", row.pk, row.attempts)
    return "abandoned" if status == Status.ABANDONED else "failed"


def send_test(user) -> push.Outcome:
    """The "send a test notification" button: every device of the person, now."""
    message = {
        "type": "test",
        "title": "Reminders are on",
        "body": "This is how the morning check-in will reach you.",
        "tag": "test",
        "url": "/settings/",
    }
    with push.new_session() as session:
        outcome = push.send(list(PushSubscription.objects.filter(user=user)), message, session, ttl=600)
    push.stamp(outcome.delivered, timezone.now())
    return outcome
