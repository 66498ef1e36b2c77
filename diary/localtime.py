"""The one place that turns instants into a person's local diary dates.

The night is the unit of analysis: "night of D" runs from D 12:00 to D+1 12:00
in the person's own time zone, so a cramp at 03:00 on the 5th belongs to the
night of the 4th, together with the context of day 4 (exercise, fluids...).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

NIGHT_STARTS = time(12, 0)

_ZONES = frozenset(available_timezones())


def is_valid_zone(name: str) -> bool:
    return name in _ZONES


def night_of(instant: datetime, zone: ZoneInfo) -> date:
    """The local date D whose night (D 12:00 to D+1 12:00) contains `instant`."""
    local = instant.astimezone(zone)
    if local.time() < NIGHT_STARTS:
        return local.date() - timedelta(days=1)
    return local.date()


def night_bounds(night: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start and end of the night of `night`; 24 h, or 23/25 h across DST."""
    start = datetime.combine(night, NIGHT_STARTS, tzinfo=zone)
    end = datetime.combine(night + timedelta(days=1), NIGHT_STARTS, tzinfo=zone)
    return start, end


def local_today(zone: ZoneInfo) -> date:
    return timezone.now().astimezone(zone).date()


def next_weekly(after: datetime, zone: ZoneInfo, weekday: int, hour: int) -> datetime:
    """The first local `weekday` at `hour`:00 strictly after `after`, as a UTC instant.

    Computed on the local calendar, so it stays at 08:00 local across DST changes.
    """
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    candidate = datetime.combine(day, time(hour), tzinfo=zone)
    if candidate <= after:
        candidate = datetime.combine(day + timedelta(days=7), time(hour), tzinfo=zone)
    return candidate.astimezone(UTC)


def week_before(instant: datetime, zone: ZoneInfo) -> date:
    """The Monday that starts the last complete local Monday-to-Monday week before `instant`."""
    local_day = instant.astimezone(zone).date()
    this_monday = local_day - timedelta(days=local_day.weekday())
    return this_monday - timedelta(days=7)


def next_daily(after: datetime, zone: ZoneInfo, at: time) -> datetime:
    """The first local `at` strictly after `after`, as a UTC instant; on the local calendar, like next_weekly.

    A time that a spring-forward day skips is read with the offset before the gap, so it comes as much later
    as the clocks went forward (02:30 in London becomes 03:30)."""
    local = after.astimezone(zone)
    for day in (local.date(), local.date() + timedelta(days=1), local.date() + timedelta(days=2)):
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a local time recurs within two days")
