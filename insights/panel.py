"""The per-night panel: one person's diary as arrays, built for a chunk of people at once.

A night counts as logged when its check-in answers "any cramps?" or when an
episode was logged in it; every other night is missing and is left out of
every statistic (never counted as cramp-free). Day D's context pairs with the
night of D (diary.localtime), so a cramp cannot change its own exposure.

Loading takes a fixed handful of queries per chunk, whatever its size, each a
flat value list (cramps per night are counted from the episode rows); the
panel is then built column by column with NumPy.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import FloatField, Max
from django.db.models.functions import Cast
from django.utils import timezone

from diary.models import (
    CHECKIN_CONTEXT_FIELDS,
    CHECKLIST_FIELDS,
    CONDITION_FIELDS,
    CheckIn,
    DoseChange,
    Episode,
    MedicationCourse,
    Profile,
)

from .models import RedFlagAcknowledgement

# Check-in fields carried into the panel as floats (NaN = not recorded).
CONTEXT_FIELDS = CHECKIN_CONTEXT_FIELDS
EPISODE_FLAGS = CHECKLIST_FIELDS
EPISODE_FIELDS = (
    "user_id",
    "night",
    "started_at",
    "time_approximate",
    "muscle",
    "side",
    "context",
    "duration_minutes",
    "severity",
    "hard_knot",
    "walking_pain_relief",
    *EPISODE_FLAGS,
    "timezone",  # the zone the episode was lived in: its local hour and date are read there
)
# Decimal columns come back as floats: float(Decimal) per value costs ~1 us.
DECIMAL_FIELDS = {"fluids_cups", "hours_sitting", "hours_standing", "sleep_hours", "duration_minutes"}
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

PROFILE_FIELDS = (
    "user_id",
    "timezone",
    "birth_year",
    "pregnant",
    "due_date",
    *CONDITION_FIELDS,
    "stretch_trial_started_on",
)


@dataclass
class Episodes:
    """One entry per episode, in start order."""

    night: np.ndarray  # datetime64[D]
    local_hour: np.ndarray  # hours since local midnight, 0-24
    started_on: np.ndarray  # local calendar date, datetime64[D]
    started_us: np.ndarray  # microseconds since the epoch (int64), exact, to compare with acknowledgements
    time_approximate: np.ndarray
    muscle: np.ndarray
    side: np.ndarray
    context: np.ndarray
    duration: np.ndarray  # minutes, NaN if unknown
    severity: np.ndarray  # NaN if unknown
    hard_knot: np.ndarray  # 1/0/NaN
    walking_pain_relief: np.ndarray
    flags: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.night)


@dataclass
class Course:
    uuid: str
    name: str
    drug_class: str
    started_on: date
    stopped_on: date | None
    increases: list[date] = field(default_factory=list)


@dataclass
class Panel:
    user_id: int
    zone: ZoneInfo
    today: date  # the person's local date when the analysis ran
    profile: dict
    nights: np.ndarray  # datetime64[D], logged nights, ascending
    cramps: np.ndarray  # cramps per logged night
    context: dict[str, np.ndarray]  # check-in fields aligned with `nights`, NaN if not recorded
    bedtime: np.ndarray  # hours since midnight, NaN if not recorded
    wake_time: np.ndarray
    episodes: Episodes
    courses: list[Course]
    # Red flag -> start of the latest report the person has acknowledged (microseconds since the epoch).
    acknowledged: dict[str, int] = field(default_factory=dict)

    @property
    def logged_nights(self) -> int:
        return int(self.nights.size)

    def window(self, first: date, last: date) -> np.ndarray:
        """Boolean mask of logged nights from `first` to `last` inclusive."""
        return (self.nights >= np.datetime64(first)) & (self.nights <= np.datetime64(last))


def load_profiles(user_ids: list[int]) -> dict[int, dict]:
    return {row["user_id"]: row for row in Profile.objects.filter(user_id__in=user_ids).values(*PROFILE_FIELDS)}


def load_courses(user_ids: list[int]) -> dict[int, list[Course]]:
    """Each person's courses by start date, with their dose increases in date order: two queries."""
    courses: dict[int, dict[int, Course]] = defaultdict(dict)
    for pk, user_id, uuid, name, drug_class, started, stopped in MedicationCourse.objects.filter(
        user_id__in=user_ids
    ).values_list("pk", "user_id", "uuid", "name", "drug_class", "started_on", "stopped_on"):
        courses[user_id][pk] = Course(str(uuid), name, drug_class, started, stopped)
    increases = DoseChange.objects.filter(course__user_id__in=user_ids, direction="increase").order_by(
        "changed_on", "pk"
    )
    for course_id, user_id, changed_on in increases.values_list("course_id", "course__user_id", "changed_on"):
        courses[user_id][course_id].increases.append(changed_on)
    return {user_id: sorted(by_pk.values(), key=lambda c: c.started_on) for user_id, by_pk in courses.items()}


def load_acknowledgements(user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each person's acknowledged red flags: the latest report each acknowledgement covers, one query."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    rows = RedFlagAcknowledgement.objects.filter(user_id__in=user_ids).values("user_id", "flag")
    for row in rows.annotate(until=Max("reported_until")).order_by():
        out[row["user_id"]][row["flag"]] = microseconds(row["until"])
    return out


def microseconds(instant: datetime) -> int:
    return (instant - EPOCH) // MICROSECOND


def load_panels(user_ids: list[int], now=None) -> list[Panel]:
    """Build the panels of a chunk of people with a fixed number of queries."""
    now = now or timezone.now()
    profiles = load_profiles(user_ids)

    checkins: dict[int, list[tuple]] = defaultdict(list)
    columns = ("user_id", "date", "no_cramps", "bedtime", "wake_time", *_as_float(CONTEXT_FIELDS))
    for row in CheckIn.objects.filter(user_id__in=user_ids).order_by("user_id", "date").values_list(*columns):
        checkins[row[0]].append(row[1:])

    episodes: dict[int, list[tuple]] = defaultdict(list)
    rows = Episode.objects.filter(user_id__in=user_ids).order_by("started_at").values_list(*_as_float(EPISODE_FIELDS))
    for row in rows:
        episodes[row[0]].append(row[1:])

    courses = load_courses(user_ids)
    acknowledged = load_acknowledgements(user_ids)

    panels = []
    for user_id in user_ids:
        profile = profiles.get(user_id)
        if profile is None:
            continue
        zone = ZoneInfo(profile["timezone"])
        panels.append(
            build_panel(
                user_id,
                zone,
                now.astimezone(zone).date(),
                profile,
                Counter(row[0] for row in episodes[user_id]),  # cramps per night
                checkins[user_id],
                episodes[user_id],
                courses.get(user_id, []),
                acknowledged.get(user_id, {}),
            )
        )
    return panels


def build_panel(user_id, zone, today, profile, counts, checkin_rows, episode_rows, courses, acknowledged=None) -> Panel:
    """Pure: align episode counts and check-ins on the logged nights, column by column."""
    rows = list({row[0]: row for row in checkin_rows}.values())  # one check-in per date
    columns = list(zip(*rows, strict=True)) if rows else [()] * (4 + len(CONTEXT_FIELDS))
    days = _days(columns[0])
    # "No cramps" is a cramp-free night; "I had cramps" without episodes still says at least one.
    answer = np.array([{True: 0.0, False: 1.0}.get(v, np.nan) for v in columns[1]], dtype=float)
    answered = ~np.isnan(answer)
    cramp_nights = _days(list(counts))
    nights = np.union1d(days[answered], cramp_nights)
    cramps = np.zeros(nights.size)
    cramps[np.searchsorted(nights, days[answered])] = answer[answered]
    cramps[np.searchsorted(nights, cramp_nights)] = np.fromiter(counts.values(), dtype=float, count=len(counts))

    # Each check-in's context goes to its night if that night is logged (an unanswered check-in on a night
    # with episodes included); NaN where not recorded.
    at = np.minimum(np.searchsorted(nights, days), max(nights.size - 1, 0))
    on_night = (nights[at] == days) if nights.size else np.zeros(days.size, dtype=bool)

    def aligned(values) -> np.ndarray:
        out = np.full(nights.size, np.nan)
        out[at[on_night]] = np.array(values, dtype=float)[on_night]  # None -> NaN, bool -> 1/0
        return out

    return Panel(
        user_id=user_id,
        zone=zone,
        today=today,
        profile=profile,
        nights=nights,
        cramps=cramps,
        context={name: aligned(values) for name, values in zip(CONTEXT_FIELDS, columns[4:], strict=True)},
        bedtime=aligned([_hours(t) for t in columns[2]]),
        wake_time=aligned([_hours(t) for t in columns[3]]),
        episodes=_episodes(episode_rows),
        courses=sorted(courses, key=lambda c: c.started_on),
        acknowledged=acknowledged or {},
    )


def _as_float(names):
    return [Cast(name, FloatField()) if name in DECIMAL_FIELDS else name for name in names]


def _days(values) -> np.ndarray:
    """Dates as datetime64[D]. np.array(dates, dtype="datetime64[D]") costs ~5 us per date; this ~0.3 us."""
    ordinals = np.fromiter((d.toordinal() for d in values), dtype=np.int64, count=len(values))
    return (ordinals - EPOCH_ORDINAL).astype("datetime64[D]")


def _hours(value) -> float:
    return np.nan if value is None else value.hour + value.minute / 60


def _episodes(rows: list[tuple]) -> Episodes:
    n = len(rows)
    column = dict(zip(EPISODE_FIELDS[1:], zip(*rows, strict=True), strict=True)) if n else {}
    zones = {name: ZoneInfo(name) for name in set(column.get("timezone", ()))}
    local = [row[1].astimezone(zones[row[-1]]) for row in rows]

    def objects(name):
        return np.array(column.get(name, ()), dtype=object)

    def floats(name):
        return np.array(column.get(name, ()), dtype=float)  # None -> NaN

    return Episodes(
        night=_days(column.get("night", ())),
        local_hour=np.array([t.hour + t.minute / 60 for t in local], dtype=float),
        started_on=_days([t.date() for t in local]),
        started_us=np.fromiter((microseconds(row[1]) for row in rows), dtype=np.int64, count=n),
        time_approximate=np.array(column.get("time_approximate", ()), dtype=bool),
        muscle=objects("muscle"),
        side=objects("side"),
        context=objects("context"),
        duration=floats("duration_minutes"),
        severity=floats("severity"),
        hard_knot=floats("hard_knot"),
        walking_pain_relief=objects("walking_pain_relief"),
        flags={name: np.array(column.get(name, ()), dtype=bool) for name in EPISODE_FLAGS},
    )


def as_of(panel: Panel, last_night: date) -> Panel:
    """The panel as it stood the morning after `last_night`: later nights, cramps and courses left out.
    What a look on that day saw (the honesty simulations replay a year of daily looks with it)."""
    keep = panel.nights <= np.datetime64(last_night)
    e = panel.episodes
    early = e.night <= np.datetime64(last_night)
    today = date.fromordinal(last_night.toordinal() + 1)
    return Panel(
        user_id=panel.user_id,
        zone=panel.zone,
        today=today,
        profile=panel.profile,
        nights=panel.nights[keep],
        cramps=panel.cramps[keep],
        context={name: values[keep] for name, values in panel.context.items()},
        bedtime=panel.bedtime[keep],
        wake_time=panel.wake_time[keep],
        episodes=Episodes(
            **{f.name: getattr(e, f.name)[early] for f in fields(Episodes) if f.name != "flags"},
            flags={name: values[early] for name, values in e.flags.items()},
        ),
        courses=[c for c in panel.courses if c.started_on <= today],
        acknowledged=panel.acknowledged,
    )
