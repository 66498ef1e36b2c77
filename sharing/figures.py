"""The numbers a clinician sees, computed from the insights panel (pure functions).

Rates are cramps per *logged* night: a night without a check-in or an episode is
missing, never zero, so every figure carries the number of logged nights it
rests on, and a rate is withheld when too few of its nights were logged
(MIN_COMPLETENESS). "The last N nights" end with last night (the night of
yesterday, which ended at noon today in the patient's zone).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from insights.models import Finding
from insights.panel import Course, Panel
from insights.rules.medications import LONG_WINDOW, PRE_DAYS

MIN_LOGGED_FOR_RATE = 7  # fewer logged nights than this: the rate is shown, but flagged as thin
# Below 70% of a window's nights logged, no rate is shown, only "logged 3 of 30 nights". Someone who logs
# mostly on cramp nights inflates a per-logged-night rate: at 70% logged, even if every missing night was
# cramp-free, the true rate is at least 0.7x the one shown (overstated by at most 1.4x); at 3 of 30 it could
# be 10x. 70% is also the data-sufficiency threshold of the international consensus on CGM metrics
# (Battelino et al., Diabetes Care 2019), under which Tidepool withholds its glucose management indicator.
MIN_COMPLETENESS = 0.7


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

    @property
    def enough(self) -> bool:
        """Enough of the window's nights logged for its rate to be shown (MIN_COMPLETENESS)."""
        return self.nights > 0 and self.logged / self.nights >= MIN_COMPLETENESS

    @property
    def shown_rate(self) -> float | None:
        """The rate a page may show: None below MIN_COMPLETENESS."""
        return self.rate if self.enough else None

    @property
    def cramp_nights_a_week(self) -> float | None:
        return 7 * self.cramp_nights / self.logged if self.enough else None

    def as_dict(self) -> dict:
        return {
            "first_night": self.first.isoformat(),
            "last_night": self.last.isoformat(),
            "cramps": self.cramps,
            "cramp_nights": self.cramp_nights,
            "logged_nights": self.logged,
            "nights": self.nights,
            "rate_per_logged_night": None if self.rate is None else round(self.rate, 3),
            "enough_logged_for_rate": self.enough,
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
    now, before = recent.shown_rate, previous.shown_rate
    if recent.thin or previous.thin or now is None or before is None:
        return False
    return now >= 1.5 * before and recent.cramps - previous.cramps >= 3


# --- Medication courses -----------------------------------------------------------------------


# The same windows as the medicine-start finding (R06, insights.rules.medications), so that the table and
# the finding agree: the 56 nights before a start against the nights after it, up to 56 (90 for diuretics
# and inhaled LABAs, which act more slowly).
BEFORE_NIGHTS = PRE_DAYS
AFTER_NIGHTS, LONG_AFTER_NIGHTS = 56, 90


def after_nights(course: Course) -> int:
    return LONG_AFTER_NIGHTS if course.drug_class in LONG_WINDOW else AFTER_NIGHTS


@dataclass(frozen=True)
class CourseEffect:
    course: Course
    before: Window
    after: Window

    @property
    def ratio(self) -> float | None:
        before, after = self.before.shown_rate, self.after.shown_rate
        if before is None or after is None or before == 0:
            return None
        return after / before


def course_effects(panel: Panel, first: date | None = None, last: date | None = None) -> list[CourseEffect]:
    """Rates before and after each start, in R06's windows (optionally only starts in a range)."""
    end = last_night(panel)
    out = []
    for course in panel.courses:
        start = course.started_on
        if (first and start < first) or (last and start > last) or start > end:
            continue
        before = window(panel, start - timedelta(days=BEFORE_NIGHTS), start - timedelta(days=1))
        after = window(panel, start + timedelta(days=1), min(start + timedelta(days=after_nights(course)), end))
        out.append(CourseEffect(course, before, after))
    return out


# --- Report ranges ------------------------------------------------------------------------------


BASELINE_NIGHTS = 28


@dataclass(frozen=True)
class Baseline:
    """What a range is compared with: the 28 nights before it or, when too few of those were logged
    (a diary begun inside the range), its own first 28 nights; `source` is "" when neither will do."""

    window: Window  # the chosen nights; when none will do, the 28 nights before the range
    source: str  # BEFORE_RANGE, START_OF_RANGE or ""

    @property
    def rate(self) -> float | None:
        return self.window.rate if self.source else None

    @property
    def cramp_nights_a_week(self) -> float | None:
        return self.window.cramp_nights_a_week if self.source else None

    @property
    def words(self) -> str:
        w = self.window
        counts = f"{w.cramps} cramps on {w.logged} logged nights"
        if self.source == START_OF_RANGE:
            return f"the first {w.nights} nights of the range ({counts}), as too few nights before it were logged"
        before = f"the {w.nights} nights before {short_day(w.last + timedelta(days=1))}"
        if self.source == BEFORE_RANGE:
            return f"{before} ({counts})"
        return f"none ({f'only {w.logged}' if w.logged else 'none'} of {before} were logged)"


BEFORE_RANGE, START_OF_RANGE = "before", "start"


def baseline(panel: Panel, first: date, last: date) -> Baseline:
    before = window(panel, first - timedelta(days=BASELINE_NIGHTS), first - timedelta(days=1))
    if before.enough:
        return Baseline(before, BEFORE_RANGE)
    start = window(panel, first, first + timedelta(days=BASELINE_NIGHTS - 1))
    # Only when the range also has 28 later nights to set against it.
    if (last - first).days + 1 >= 2 * BASELINE_NIGHTS and start.enough:
        return Baseline(start, START_OF_RANGE)
    return Baseline(before, "")


@dataclass(frozen=True)
class Week:
    window: Window
    ratio_to_baseline: float | None


def weeks_against_baseline(panel: Panel, first: date, last: date) -> tuple[list[Week], Baseline]:
    """7-night blocks from `first` (the last may be shorter) and the baseline they are set against."""
    base = baseline(panel, first, last)
    weeks = []
    start = first
    while start <= last:
        block = window(panel, start, min(start + timedelta(days=6), last))
        rate = block.shown_rate
        ratio = rate / base.rate if rate is not None and base.rate else None
        weeks.append(Week(block, ratio))
        start += timedelta(days=7)
    return weeks, base


@dataclass(frozen=True)
class Headline:
    """Cramp nights a week in the last 4 weeks of a range against its baseline: the page's first line."""

    now: Window
    baseline: Baseline

    @property
    def change(self) -> float | None:
        """Relative change from the baseline: 2.5 is +250%; None without both rates or from zero."""
        now, before = self.now.cramp_nights_a_week, self.baseline.cramp_nights_a_week
        if now is None or not before:
            return None
        return now / before - 1

    @property
    def words(self) -> str:
        """ "Cramp nights: 6.6 a week now vs 1.9 at baseline, +250%", or why not."""
        now, before = self.now.cramp_nights_a_week, self.baseline.cramp_nights_a_week
        if now is None:
            return f"Cramp nights a week: {too_few(self.now)}"
        text = f"Cramp nights: {now:.1f} a week now"
        if before is None:
            return text + "; no baseline to compare with"
        if before == 0:
            return text + " vs none at baseline"
        change = round(100 * (now / before - 1))
        return text + f" vs {before:.1f} at baseline, " + (f"+{change}%" if change >= 0 else f"−{-change}%")

    @property
    def detail(self) -> str:
        """Which nights each figure rests on."""
        return f"Now: the last {self.now.nights} nights, {self.now.logged} logged. Baseline: {self.baseline.words}."


def window_terms() -> dict:
    """The numbers the pages' labels quote: the completeness threshold and the before/after windows."""
    return {
        "min_completeness": MIN_COMPLETENESS,
        "before_nights": BEFORE_NIGHTS,
        "after_nights": AFTER_NIGHTS,
        "long_after_nights": LONG_AFTER_NIGHTS,
    }


def too_few(w: Window) -> str:
    return f"logged {w.logged} of {w.nights} nights: too few for a rate"


def short_day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def headline(panel: Panel, first: date, last: date) -> Headline:
    now = window(panel, max(first, last - timedelta(days=BASELINE_NIGHTS - 1)), last)
    return Headline(now, baseline(panel, first, last))


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
