"""What one person's weekly email says: the week in numbers, the top finding, one tip.

The covered week is computed once, when the delivery row is created, and
passed in here, so a retry always describes the same week. Content rules
(triggers.md 4.4): an active E0-E2 escalation replaces every tip; a pattern
is shown with its numbers and interval; otherwise a rotating general tip that
is never the one sent the week before; and a nudge when data is thin.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from statistics import median

from django.conf import settings
from django.db.models import Count

from diary.models import CheckIn, Episode

from .analysis import ESCALATION, HIGHER, INSUFFICIENT, LOWER
from .catalogue import GENERAL_TIPS, cite, entry
from .models import Finding

WEEKS_BEFORE = 4
THIN_WEEK = 4  # fewer logged nights than this earns a nudge


@dataclass
class Night:
    day: date
    cramps: int | None  # None = missing (no check-in answer and no episode)

    @property
    def bar(self) -> str:
        """The night's cramps as a bar of # for the plain-text email."""
        return "#" * (self.cramps or 0)


@dataclass
class Week:
    nights: list[Night]
    cramps: int
    cramp_nights: int
    cramp_free_nights: int
    missing_nights: int
    median_severity: float | None
    median_duration: float | None

    @property
    def logged_nights(self) -> int:
        return self.cramp_nights + self.cramp_free_nights


@dataclass
class Digest:
    week_start: date
    week: Week
    before: dict  # averages per week over the previous four weeks
    escalations: list[Finding] = field(default_factory=list)
    pattern: Finding | None = None
    tip_id: str = ""
    tip: str = ""
    tip_source: str = ""
    nudge: str = ""
    max_cramps: int = 1

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def urgent(self) -> bool:
        return any(f.escalation in ("E0", "E1") for f in self.escalations)


def build_digest(user, week_start: date, last_tip_id: str = "") -> Digest:
    return build_digests([(user.pk, week_start)], {user.pk: last_tip_id})[(user.pk, week_start)]


def build_digests(wanted: list[tuple[int, date]], last_tips: dict[int, str]) -> dict[tuple[int, date], Digest]:
    """Digests for many (user id, week start) pairs with a fixed number of queries."""
    if not wanted:
        return {}
    users = {user_id for user_id, _ in wanted}
    first = min(week for _, week in wanted) - timedelta(days=7 * WEEKS_BEFORE)
    last = max(week for _, week in wanted) + timedelta(days=6)
    diary = _diary_rows(users, first, last, min(week for _, week in wanted))
    findings: dict[int, list[Finding]] = {user_id: [] for user_id in users}
    for finding in Finding.objects.filter(user_id__in=users).order_by("user_id", "rank"):
        findings[finding.user_id].append(finding)
    return {
        (user_id, week_start): _digest(week_start, diary, user_id, findings[user_id], last_tips.get(user_id, ""))
        for user_id, week_start in wanted
    }


def _digest(week_start: date, diary: dict, user_id: int, findings: list[Finding], last_tip_id: str) -> Digest:
    weeks = _weeks(diary, user_id, week_start)
    week = weeks[-1]
    before = [w for w in weeks[:-1] if w.logged_nights]
    averages = {
        "weeks": len(before),
        "cramps": _mean([w.cramps for w in before]),
        "cramp_nights": _mean([w.cramp_nights for w in before]),
        "logged_nights": _mean([w.logged_nights for w in before]),
    }
    digest = Digest(week_start, week, averages, max_cramps=max([1, *(n.cramps or 0 for n in week.nights)]))
    digest.escalations = [f for f in findings if f.status == ESCALATION and f.escalation in ("E0", "E1", "E2")]
    if digest.urgent:
        digest.escalations = [f for f in digest.escalations if f.escalation in ("E0", "E1")]
    if not digest.escalations:
        digest.pattern = next((f for f in findings if f.status in (HIGHER, LOWER) and f.tip), None)
        if digest.pattern is not None:
            digest.tip, digest.tip_source = digest.pattern.tip, digest.pattern.source
        else:
            digest.tip_id = rotating_tip(week_start, last_tip_id)
            digest.tip, digest.tip_source = entry(digest.tip_id).tip, cite(digest.tip_id)
    digest.nudge = _nudge(week, findings)
    return digest


@cache
def _general_tips() -> tuple[str, ...]:
    return tuple(tip_id for tip_id in GENERAL_TIPS if entry(tip_id).tip)


def rotating_tip(week_start: date, last_tip_id: str) -> str:
    """A general tip chosen by the week, never the one sent last time."""
    tips = _general_tips()
    index = week_start.toordinal() // 7 % len(tips)
    if tips[index] == last_tip_id:
        index = (index + 1) % len(tips)
    return tips[index]


def _nudge(week: Week, findings: list[Finding]) -> str:
    """What would help the diary most, told truly: never beside a red flag, and only a number the analysis
    computed at this person's own pace (it gives none for a field they have never recorded)."""
    if any(f.escalation in ("E0", "E1", "E2") for f in findings):
        return ""
    if week.logged_nights < THIN_WEEK:
        return (
            f'You logged {week.logged_nights} of 7 nights this week. A one-tap morning check-in, even "no cramps", '
            "is what lets CrampTrack find patterns."
        )
    waiting = [f for f in findings if f.status == INSUFFICIENT and f.nights_needed and f.nights_needed <= 365]
    if not waiting:
        return ""
    soonest = min(waiting, key=lambda f: f.nights_needed or 0)  # all set: filtered above
    return (
        f"{entry(soonest.trigger).title}: about {soonest.nights_needed} more logged nights at your pace would "
        "let CrampTrack test it. A one-tap morning check-in counts, even on a night without cramps."
    )


def _diary_rows(users: set[int], first: date, last: date, covered_from: date) -> dict:
    """Cramps per night and check-in answers for a batch of people, and episode details for the
    covered weeks only (the four weeks before are shown as counts)."""
    per_night: dict = {}
    episodes = Episode.objects.filter(user_id__in=users, night__range=(first, last))
    for user_id, night, n in (
        episodes.values("user_id", "night").annotate(n=Count("id")).order_by().values_list("user_id", "night", "n")
    ):
        per_night[(user_id, night)] = n
    answered = {
        (user_id, day): no_cramps
        for user_id, day, no_cramps in CheckIn.objects.filter(
            user_id__in=users, date__range=(first, last), no_cramps__isnull=False
        ).values_list("user_id", "date", "no_cramps")
    }
    details: dict = {}
    covered = episodes.filter(night__gte=covered_from)
    for user_id, night, severity, duration in covered.values_list("user_id", "night", "severity", "duration_minutes"):
        details.setdefault(user_id, []).append((night, severity, duration))
    return {"per_night": per_night, "answered": answered, "details": details}


def _weeks(diary: dict, user_id: int, week_start: date) -> list[Week]:
    """The covered week (last) and the four before it; only the covered week lists its nights."""
    per_night, answered = diary["per_night"], diary["answered"]
    week_end = week_start + timedelta(days=6)
    details = [
        (severity, duration)
        for night, severity, duration in diary["details"].get(user_id, [])
        if week_start <= night <= week_end
    ]
    weeks = []
    for index, days in enumerate(_days(week_start)):
        counts = []
        for day in days:
            cramps = per_night.get((user_id, day))
            if cramps is None and (user_id, day) in answered:
                cramps = 0 if answered[(user_id, day)] else 1
            counts.append(cramps)  # None: no check-in answer and no episode
        weeks.append(_week(counts, details if index == WEEKS_BEFORE else []))
    weeks[-1].nights = [Night(day, cramps) for day, cramps in zip(days, counts, strict=True)]
    return weeks


@lru_cache(maxsize=64)
def _days(week_start: date) -> tuple[tuple[date, ...], ...]:
    """The days of the four weeks before the covered one and of the covered week, oldest first."""
    first = week_start - timedelta(days=7 * WEEKS_BEFORE)
    return tuple(tuple(first + timedelta(days=7 * w + d) for d in range(7)) for w in range(WEEKS_BEFORE + 1))


def _week(counts: list[int | None], details: list[tuple]) -> Week:
    logged = [c for c in counts if c is not None]
    severities = [s for s, _ in details if s is not None]
    durations = [float(d) for _, d in details if d is not None]
    return Week(
        nights=[],
        cramps=sum(logged),
        cramp_nights=sum(1 for c in logged if c > 0),
        cramp_free_nights=logged.count(0),
        missing_nights=len(counts) - len(logged),
        median_severity=round(median(severities), 1) if severities else None,
        median_duration=round(median(durations), 1) if durations else None,
    )


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def links() -> dict:
    return {"log": f"{settings.SITE_URL}/", "insights": f"{settings.SITE_URL}/insights/"}
