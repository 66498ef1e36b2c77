"""Which weekly email a person gets, and what it says.

The covered week is computed once, when the delivery row is created, and passed in here, so a retry
describes the same week. Which email (Digest.kind):
- welcome: the diary's first night falls in the covered week: a welcome and how-to, with what was logged;
- missed: nothing logged this week: a short "we missed you" with the one-tap morning check-in;
- paused: the PAUSE_AFTER-th missed week in a row: the last email until the diary changes again;
- week: the week in numbers, led by the change from the person's usual week.
None (no email) for a week that ended before the diary began.

An active E0-E2 escalation comes first in every kind, dated and with what to do, and replaces the tip,
the nudge and the "not yet" lines. Otherwise the week email shows the top pattern with its numbers, one
tip (the pattern's, in pregnancy the pregnancy tip, else a rotating general one never sent two weeks
running), a nudge and what the diary cannot tell yet (insights.not_yet). Nights before the diary began
are "before you joined", never "not logged".
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min

from diary.localtime import night_of
from diary.models import CheckIn, Episode, Profile
from insights import not_yet
from insights.catalogue import GENERAL_TIPS, cite, entry
from insights.findings import ESCALATION, HIGHER, LOWER
from insights.models import Finding
from insights.red_flags import Notice, notice

from .models import DigestDelivery

Kind = DigestDelivery.Kind
WEEKS_BEFORE = 4
PAUSE_AFTER = 3  # empty weeks in a row; the email for the last of them says it pauses
BAR_CHARS = 20  # the widest bar of the plain-text chart


@dataclass
class Night:
    day: date
    cramps: int | None  # None = missing (no check-in answer and no episode)
    before_diary: bool = False  # before the diary began: neither logged nor missing
    width: int = 0  # the bar's share of the chart's width, in percent (the week's worst night = 100)
    bar: str = ""  # the same bar in # for the plain-text email

    @property
    def label(self) -> str:
        """ "Mon 2 Nov" (formatted here: Django's date filter would cost more than the rest of the chart)."""
        return f"{self.day:%a} {self.day.day} {self.day:%b}"

    @property
    def rest(self) -> int:
        """The chart's width beside the bar, in percent."""
        return 100 - self.width


@dataclass
class Week:
    nights: list[Night]
    cramps: int
    cramp_nights: int
    cramp_free_nights: int
    missing_nights: int
    median_severity: float | None
    median_duration: float | None
    before_diary: int = 0

    @property
    def logged_nights(self) -> int:
        return self.cramp_nights + self.cramp_free_nights

    @property
    def diary_nights(self) -> int:
        return 7 - self.before_diary

    @property
    def summary(self) -> str:
        """ "3 cramps on 2 of 5 logged nights", never "0 cramps on 0 nights"."""
        logged = f"{self.logged_nights} logged night{'s' if self.logged_nights != 1 else ''}"
        if not self.logged_nights:
            return "no nights logged"
        if not self.cramps:
            return f"no cramps on {logged}"
        return f"{self.cramps} cramp{'s' if self.cramps != 1 else ''} on {self.cramp_nights} of {logged}"


@dataclass
class Change:
    """The week against the person's usual rate, the email's lead."""

    headline: str  # "3 more cramps than your usual week"
    detail: str


@dataclass
class History:
    """What the person's earlier weekly emails were."""

    last_tip_id: str = ""  # the rotating tip of the week before, never repeated
    missed_in_a_row: int = 0  # "missed" emails for the weeks just before this one


@dataclass
class Digest:
    week_start: date
    week: Week
    before: dict  # averages per week over the previous weeks with entries
    kind: str = Kind.WEEK
    change: Change | None = None
    notices: list[Notice] = field(default_factory=list)
    pattern: Finding | None = None
    tip_id: str = ""
    tip: str = ""
    tip_source: str = ""
    nudge: str = ""
    not_yet: list[str] = field(default_factory=list)

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def urgent(self) -> bool:
        return any(n.urgent for n in self.notices)

    @property
    def span(self) -> str:
        """ "2 Nov – 8 Nov" """
        return f"{self.week_start.day} {self.week_start:%b} – {self.week_end.day} {self.week_end:%b}"


def build_digest(user, week_start: date, history: History | None = None) -> Digest | None:
    key = (user.pk, week_start)
    return build_digests([key], {key: history or History()})[key]


def build_digests(
    wanted: list[tuple[int, date]], history: dict[tuple[int, date], History]
) -> dict[tuple[int, date], Digest | None]:
    """Digests for many (user id, week start) pairs with a fixed number of queries; None where the week
    ended before the diary began."""
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
        (user_id, week): _digest(week, diary, user_id, findings[user_id], history.get((user_id, week), History()))
        for user_id, week in wanted
    }


def _digest(week_start: date, diary: dict, user_id: int, findings: list[Finding], history: History) -> Digest | None:
    first_night = diary["first_nights"].get(user_id, week_start)
    if first_night > week_start + timedelta(days=6):
        return None  # the whole week is before the diary began: nothing to say yet
    weeks = _weeks(diary, user_id, week_start, first_night)
    week = weeks[-1]
    before = [w for w in weeks[:-1] if w.logged_nights]
    averages = {
        "weeks": len(before),
        "cramps": _mean([w.cramps for w in before]),
        "cramp_nights": _mean([w.cramp_nights for w in before]),
        "logged_nights": _mean([w.logged_nights for w in before]),
    }
    escalations = [f for f in findings if f.status == ESCALATION and f.escalation in ("E0", "E1", "E2")]
    kind = _kind(week, week_start, first_night, history, red_flag=bool(escalations))
    digest = Digest(week_start, week, averages, kind=kind)
    digest.notices = [notice(f) for f in escalations]
    if digest.urgent:  # an emergency or same-day flag stands alone
        digest.notices = [n for n in digest.notices if n.urgent]
    if digest.kind != Kind.WEEK:
        return digest
    digest.change = _change(week, before)
    if digest.notices:
        return digest
    digest.pattern = next((f for f in findings if f.status in (HIGHER, LOWER)), None)
    pregnancy = next((f for f in findings if f.rule == "R11" and f.tip), None)
    if digest.pattern is not None and digest.pattern.tip:
        digest.tip, digest.tip_source = digest.pattern.tip, digest.pattern.source
    elif pregnancy is not None:  # in pregnancy only the pregnancy tip
        digest.tip, digest.tip_source = pregnancy.tip, pregnancy.source
    else:
        digest.tip_id = rotating_tip(week_start, history.last_tip_id)
        digest.tip, digest.tip_source = entry(digest.tip_id).tip, cite(digest.tip_id)
    if week.logged_nights < not_yet.THIN_WEEK:
        digest.nudge = not_yet.thin_week_nudge(week.logged_nights, week.diary_nights)
    else:
        digest.nudge = not_yet.nudge(findings)
    digest.not_yet = not_yet.lines(findings)
    return digest


def _kind(week: Week, week_start: date, first_night: date, history: History, red_flag: bool) -> str:
    if first_night >= week_start:
        return Kind.WELCOME
    if week.logged_nights:
        return Kind.WEEK
    # A red flag not yet acknowledged keeps the emails coming: pausing would silence it.
    if history.missed_in_a_row + 1 >= PAUSE_AFTER and not red_flag:
        return Kind.PAUSED
    return Kind.MISSED


def _change(week: Week, before: list[Week]) -> Change | None:
    """This week's cramps against the person's own rate over the earlier weeks, for the nights logged."""
    if len(before) < 2 or week.logged_nights < not_yet.THIN_WEEK:
        return None
    rate = sum(w.cramps for w in before) / sum(w.logged_nights for w in before)
    usual = rate * week.logged_nights
    difference = round(week.cramps - usual)
    if difference > 0:
        headline = f"{difference} more cramp{'s' if difference != 1 else ''} than your usual week"
    elif difference < 0:
        headline = f"{-difference} fewer cramp{'s' if difference != -1 else ''} than your usual week"
    else:
        headline = "About your usual week"
    detail = (
        f"{week.cramps} cramp{'s' if week.cramps != 1 else ''} in {week.logged_nights} logged nights; at your rate "
        f"over {len(before)} earlier weeks that would be about {round(usual)}."
    )
    return Change(headline, detail)


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


def _diary_rows(users: set[int], first: date, last: date, covered_from: date) -> dict:
    """Cramps per night and check-in answers for a batch of people, episode details for the covered weeks
    only (the four weeks before are shown as counts), and the night each diary began."""
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
    return {"per_night": per_night, "answered": answered, "details": details, "first_nights": _first_nights(users)}


def _first_nights(users: set[int]) -> dict[int, date]:
    """The night each diary began: the night the account was made in (its first morning check-in is about
    it), or the earliest night logged, if earlier (an import)."""
    first = {
        user_id: night_of(joined, ZoneInfo(zone))
        for user_id, joined, zone in Profile.objects.filter(user_id__in=users).values_list(
            "user_id", "user__date_joined", "timezone"
        )
    }
    for model, day in ((Episode, "night"), (CheckIn, "date")):
        earliest = model.objects.filter(user_id__in=users).values("user_id").annotate(first=Min(day)).order_by()
        for user_id, night in earliest.values_list("user_id", "first"):
            first[user_id] = min(first.get(user_id, night), night)
    return first


def _weeks(diary: dict, user_id: int, week_start: date, first_night: date) -> list[Week]:
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
        before_diary = sum(1 for day in days if day < first_night)
        weeks.append(_week(counts, details if index == WEEKS_BEFORE else [], before_diary))
    weeks[-1].nights = _nights(days, counts, first_night)
    return weeks


def _nights(days: tuple[date, ...], counts: list[int | None], first_night: date) -> list[Night]:
    worst = max([1, *(c or 0 for c in counts)])
    nights = []
    for day, cramps in zip(days, counts, strict=True):
        night = Night(day, cramps, before_diary=day < first_night)
        if cramps:
            night.width = max(4, round(cramps * 100 / worst))
            night.bar = "#" * max(1, round(cramps * min(worst, BAR_CHARS) / worst))
        nights.append(night)
    return nights


@lru_cache(maxsize=64)
def _days(week_start: date) -> tuple[tuple[date, ...], ...]:
    """The days of the four weeks before the covered one and of the covered week, oldest first."""
    first = week_start - timedelta(days=7 * WEEKS_BEFORE)
    return tuple(tuple(first + timedelta(days=7 * w + d) for d in range(7)) for w in range(WEEKS_BEFORE + 1))


def _week(counts: list[int | None], details: list[tuple], before_diary: int) -> Week:
    logged = [c for c in counts if c is not None]
    severities = [s for s, _ in details if s is not None]
    durations = [float(d) for _, d in details if d is not None]
    return Week(
        nights=[],
        cramps=sum(logged),
        cramp_nights=sum(1 for c in logged if c > 0),
        cramp_free_nights=logged.count(0),
        # Nights before the diary began hold no data by construction: they are not "missing".
        missing_nights=len(counts) - len(logged) - before_diary,
        median_severity=round(median(severities), 1) if severities else None,
        median_duration=round(median(durations), 1) if durations else None,
        before_diary=before_diary,
    )


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def links() -> dict:
    return {
        "log": f"{settings.SITE_URL}/",  # opens on "Any cramps last night?": "None" is one tap
        "insights": f"{settings.SITE_URL}/insights/",
        "settings": f"{settings.SITE_URL}/settings/",
        "sharing": f"{settings.SITE_URL}/sharing/",
    }
