"""The numbers a clinician sees, computed from the insights panel (pure functions).

Rates are cramps per *logged* night: a night without a check-in or an episode is
missing, never zero, so every figure carries the number of logged nights it
rests on. "The last N nights" end with last night (the night of yesterday, which
ended at noon today in the patient's zone).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from insights.models import Finding
from insights.panel import Course, Panel

BEFORE_AFTER_NIGHTS = 28
MIN_LOGGED_FOR_RATE = 7  # fewer logged nights than this: the rate is shown, but flagged as thin


@dataclass(frozen=True)
class Window:
    first: date
    last: date
    cramps: int
    logged: int
    cramp_nights: int

    @property
    def nights(self) -> int:
        return max(0, (self.last - self.first).days + 1)

    @property
    def rate(self) -> float | None:
        return self.cramps / self.logged if self.logged else None

    @property
    def completeness(self) -> float | None:
        return self.logged / self.nights if self.nights else None

    @property
    def thin(self) -> bool:
        return self.logged < MIN_LOGGED_FOR_RATE

    def as_dict(self) -> dict:
        return {
            "first_night": self.first.isoformat(),
            "last_night": self.last.isoformat(),
            "cramps": self.cramps,
            "cramp_nights": self.cramp_nights,
            "logged_nights": self.logged,
            "nights": self.nights,
            "rate_per_logged_night": None if self.rate is None else round(self.rate, 3),
        }


def last_night(panel: Panel) -> date:
    return panel.today - timedelta(days=1)


def window(panel: Panel, first: date, last: date) -> Window:
    mask = panel.window(first, last)
    cramps = panel.cramps[mask]
    return Window(first, last, int(cramps.sum()), int(mask.sum()), int((cramps > 0).sum()))


def recent_and_previous(panel: Panel, days: int = 30) -> tuple[Window, Window]:
    end = last_night(panel)
    recent = window(panel, end - timedelta(days=days - 1), end)
    previous = window(panel, end - timedelta(days=2 * days - 1), end - timedelta(days=days))
    return recent, previous


def nightly(panel: Panel, first: date, last: date) -> list[tuple[date, int | None]]:
    """Cramps per night from `first` to `last`; None where the night was not logged."""
    logged = dict(zip(panel.nights.astype(object), panel.cramps.astype(int).tolist(), strict=True))
    days = (last - first).days + 1
    return [(first + timedelta(days=i), logged.get(first + timedelta(days=i))) for i in range(max(days, 0))]


def worsening(recent: Window, previous: Window) -> bool:
    """A plain screen for the dashboard's ordering, not a statistical claim (R07 makes that)."""
    if recent.thin or previous.thin or recent.rate is None or previous.rate is None:
        return False
    return recent.rate >= 1.5 * previous.rate and recent.cramps - previous.cramps >= 3


# --- Medication courses -----------------------------------------------------------------------


@dataclass(frozen=True)
class CourseEffect:
    course: Course
    before: Window
    after: Window

    @property
    def ratio(self) -> float | None:
        if self.before.rate is None or self.after.rate is None or self.before.rate == 0:
            return None
        return self.after.rate / self.before.rate


def course_effects(panel: Panel, first: date | None = None, last: date | None = None) -> list[CourseEffect]:
    """Rates in the 28 nights before and after each start (optionally only starts in a range)."""
    end = last_night(panel)
    out = []
    for course in panel.courses:
        start = course.started_on
        if (first and start < first) or (last and start > last) or start > end:
            continue
        before = window(panel, start - timedelta(days=BEFORE_AFTER_NIGHTS), start - timedelta(days=1))
        after = window(panel, start, min(start + timedelta(days=BEFORE_AFTER_NIGHTS - 1), end))
        out.append(CourseEffect(course, before, after))
    return out


# --- Report ranges ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    window: Window
    ratio_to_baseline: float | None


def weeks_against_baseline(
    panel: Panel, first: date, last: date, baseline_nights: int = 28
) -> tuple[list[Week], Window]:
    """7-night blocks from `first` (the last may be shorter) and the `baseline_nights` before `first`."""
    baseline = window(panel, first - timedelta(days=baseline_nights), first - timedelta(days=1))
    weeks = []
    start = first
    while start <= last:
        block = window(panel, start, min(start + timedelta(days=6), last))
        ratio = None
        if block.rate is not None and baseline.rate:
            ratio = block.rate / baseline.rate
        weeks.append(Week(block, ratio))
        start += timedelta(days=7)
    return weeks, baseline


@dataclass(frozen=True)
class Severity:
    episodes: int
    rated: int
    median: float | None
    q1: float | None
    q3: float | None
    worst: float | None
    median_duration: float | None
    timed: int
    muscles: list[tuple[str, int]]
    sides: list[tuple[str, int]]


def severity(panel: Panel, first: date, last: date) -> Severity:
    e = panel.episodes
    mask = (e.night >= np.datetime64(first)) & (e.night <= np.datetime64(last)) if len(e) else np.zeros(0, bool)
    sev = e.severity[mask] if len(e) else np.zeros(0)
    sev = sev[~np.isnan(sev)]
    dur = e.duration[mask] if len(e) else np.zeros(0)
    dur = dur[~np.isnan(dur)]

    def counted(values) -> list[tuple[str, int]]:
        names, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
        return sorted(zip(names.tolist(), counts.tolist(), strict=True), key=lambda pair: -pair[1])

    return Severity(
        episodes=int(mask.sum()),
        rated=int(sev.size),
        median=float(np.median(sev)) if sev.size else None,
        q1=float(np.percentile(sev, 25)) if sev.size else None,
        q3=float(np.percentile(sev, 75)) if sev.size else None,
        worst=float(sev.max()) if sev.size else None,
        median_duration=float(np.median(dur)) if dur.size else None,
        timed=int(dur.size),
        muscles=counted(e.muscle[mask]) if len(e) else [],
        sides=counted(e.side[mask]) if len(e) else [],
    )


# --- Findings --------------------------------------------------------------------------------------

URGENT_LEVELS = ("E0", "E1")


def red_flags(findings: list[Finding]) -> list[Finding]:
    """Escalations, most urgent first (the analyser's rank already orders them)."""
    return [f for f in findings if f.status == Finding.Status.ESCALATION]


def urgent(findings: list[Finding]) -> list[Finding]:
    return [f for f in red_flags(findings) if f.escalation in URGENT_LEVELS]


def trend_escalated(findings: list[Finding]) -> bool:
    return any(f.rule == "R07" and f.status == Finding.Status.ESCALATION for f in findings)


# --- Calendar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    cramps: int | None
    in_range: bool

    @property
    def level(self) -> str:
        if not self.in_range:
            return "out"
        if self.cramps is None:
            return "missing"
        return str(min(self.cramps, 3))


def calendar_months(series: list[tuple[date, int | None]]) -> list[tuple[date, list[list[Day]]]]:
    """Monday-first month grids covering the series; days outside it are marked out of range."""
    if not series:
        return []
    values = dict(series)
    first, last = series[0][0], series[-1][0]
    months = []
    month = first.replace(day=1)
    while month <= last:
        weeks = []
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
            weeks.append(
                [
                    Day(d, values.get(d), first <= d <= last) if d.month == month.month else Day(d, None, False)
                    for d in week
                ]
            )
        months.append((month, weeks))
        month = (month + timedelta(days=32)).replace(day=1)
    return months
