"""People, diaries and beat ticks for the weekly-email tests."""

from datetime import UTC, date, datetime, timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from conftest import make_user
from diary.models import CheckIn, Episode
from insights.analysis import ANALYSIS_VERSION
from insights.models import AnalysisState
from notifications import delivery

# Monday 9 November 2026, 08:00 in London (GMT) is 08:00 UTC.
MONDAY_0800_LONDON = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


def patient(
    email="alice@example.org",
    zone="Europe/London",
    verified=True,
    after=MONDAY_0800_LONDON,
    joined=None,
    hour: int | None = 8,
):
    """A verified patient, due for the email at `after`; by default one who chose Monday 08:00 (hour=None
    keeps the default time) and joined two months before."""
    user = make_user(email, zone=zone)
    joined = joined or after - timedelta(days=60)
    type(user).objects.filter(pk=user.pk).update(date_joined=joined)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    profile = user.profile
    if hour is not None:
        profile.digest_hour = hour
    profile.schedule_digest(after=after - timedelta(minutes=1))
    profile.save()
    return user


def log_week(user, monday: date, cramps_per_night: dict[int, int], severity=6):
    """Check-ins for the 7 nights from `monday`; `cramps_per_night` maps day offset -> cramps."""
    for offset in range(7):
        night = monday + timedelta(days=offset)
        n = cramps_per_night.get(offset)
        if n is None:
            continue
        CheckIn.objects.create(user=user, date=night, no_cramps=n == 0)
        for i in range(n):
            when = datetime(night.year, night.month, night.day, 3, i, tzinfo=UTC) + timedelta(days=1)
            Episode.objects.create(
                user=user, started_at=when, muscle="calf", side="left", severity=severity, duration_minutes=2
            )


def analysed(user):
    """The diary counts as analysed as it is, so the findings a test writes stand (a diary changed since its
    last analysis is analysed again just before its email)."""
    AnalysisState.objects.update_or_create(
        user=user, defaults={"analysed_at": timezone.now(), "version": ANALYSIS_VERSION}
    )


def run_tick(now):
    return [delivery.send(delivery_id, now=now) for delivery_id in delivery.plan(now=now)]


def parts(message) -> tuple[str, str, str]:
    """A received message's subject, plain text and HTML, the HTML's text with its tags and spaces folded."""
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(preferencelist=("html",)).get_content()
    return " ".join(str(message["Subject"]).split()), text, html
