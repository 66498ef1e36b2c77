"""Red flags and escalations in a clinician's words: what was reported, where, when, and whether
the patient says they have seen someone about it.

A finding's message is written to the patient ("Don't massage that calf"); a clinician needs
the presentation instead ("Swollen, red or warm left calf, reported 27 Nov", ?DVT). The words come
from the finding's rule and counts (a red flag's counts name the flag and its first and last
report), the side from the panel's episodes whose checklist carries the flag, and the
acknowledgement from RedFlagAcknowledgement. A medicine is named only from the panel's courses,
and only when the grant shares medications (shared_courses); otherwise the words say "a medicine
(not shared with you)", as sharing.shared_findings does.
"""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from diary.choices import DrugClass
from insights.catalogue import RULES
from insights.models import Finding, RedFlagAcknowledgement
from insights.panel import Course, Panel

from .models import Grant
from .shared_findings import UNNAMED

URGENCY = {"E0": "Emergency", "E1": "Same day", "E2": "Within 2 weeks", "E3": "Routine"}
BADGE_LEVELS = ("E0", "E1", "E2")  # the dashboard badges; E3 waits for the patient page

# The red flags (insights.models.RED_FLAG_CHOICES) as a clinician would note them, with the
# question each raises; "{side}" takes "left ", "right " or nothing. Dark urine comes before
# weakness so that R06's pair reads "Dark urine + new muscle weakness on ...".
FLAG_WORDS = {
    "breathless_chest_pain": ("Breathlessness or chest pain with leg symptoms", "?PE"),
    "calf_swelling": ("Swollen, red or warm {side}calf", "?DVT"),
    "saddle_numbness": ("Saddle numbness or new bladder or bowel change", "?cauda equina"),
    "dark_urine": ("Dark or cola-coloured urine", "?myoglobinuria"),
    "weakness": ("New muscle weakness", ""),
    "foot_pale_cold": ("Pale, cold {side}foot, painful at rest", "?limb ischaemia"),
    "numbness_tingling": ("Numbness or tingling, {side}leg or foot", "?neuropathy"),
    "tingling_mouth_fingers": ("Tingling around the mouth or in the fingers", "?hypocalcaemia"),
    "pain_between_cramps": ("Pain persisting between cramps", ""),
    "walking_pain": ("Leg pain on walking, eased by rest", "?claudication"),
    "long_cramps": ("Cramps lasting over 10 minutes, 3 or more within 30 days", ""),
    "spread_beyond_legs": ("Cramps spreading to the arms or trunk", ""),
}
SIDED = ("calf_swelling", "foot_pale_cold", "numbness_tingling")
MYOPATHY_CLASSES = (DrugClass.STATIN, DrugClass.NICOTINIC_ACID)  # R06's red flags (insights.rules.hard_stops)


@dataclass(frozen=True)
class Alert:
    level: str  # E0-E3; "" for a flag the patient has acknowledged
    what: str  # what was reported or found, in a clinician's words
    query: str = ""  # the question it raises, e.g. "?DVT"
    when: str = ""  # "reported 30 Nov and 3 Dec", "since 12 Sep 2026"
    numbers: str = ""  # a statistical escalation's counts and rate ratio
    acknowledged_on: date | None = None  # the patient's "I've seen someone about this"
    flag: bool = False  # a reported red flag, which the patient can acknowledge

    @property
    def urgency(self) -> str:
        return URGENCY.get(self.level, "")


@dataclass(frozen=True)
class FlagEpisode:
    day: date  # local calendar date of the start, as the findings' report dates
    side: str
    flags: frozenset[str]


def badges(grant: Grant, findings: list[Finding], panel: Panel) -> list[Alert]:
    """The dashboard's: every current E0-E2 escalation (no query: the panel has the episodes)."""
    alerts = current(findings, shared_courses(grant, panel), shared_episodes(grant, panel), panel.today)
    return [a for a in alerts if a.level in BADGE_LEVELS]


def for_patient(grant: Grant, findings: list[Finding], panel: Panel) -> list[Alert]:
    """The patient page's and the report's: current escalations, then the flags the patient has acknowledged."""
    episodes = shared_episodes(grant, panel)
    acknowledged = [
        acknowledged_flag(row, episodes, panel.zone, panel.today)
        for row in RedFlagAcknowledgement.objects.filter(user_id=grant.patient_id)
    ]
    return current(findings, shared_courses(grant, panel), episodes, panel.today) + acknowledged


def shared_courses(grant: Grant, panel: Panel) -> list[Course]:
    """The only way a medicine's name reaches these words: never when the grant leaves medications out."""
    return panel.courses if grant.medications else []


def shared_episodes(grant: Grant, panel: Panel) -> list[FlagEpisode]:
    """The side of a flag comes from the episodes: only when the grant shares them."""
    return flag_episodes(panel) if grant.episodes_checkins else []


def flag_episodes(panel: Panel) -> list[FlagEpisode]:
    """The panel's episodes with a ticked checklist box, with their local start date and side."""
    e = panel.episodes
    names = [name for name in e.flags if name in FLAG_WORDS]
    ticked = np.column_stack([e.flags[name] for name in names]) if names and len(e) else np.zeros((len(e), 0), bool)
    return [
        FlagEpisode(
            e.started_on[i].item(), str(e.side[i]), frozenset(n for n, t in zip(names, ticked[i], strict=True) if t)
        )
        for i in np.flatnonzero(ticked.any(axis=1))
    ]


def current(findings: list[Finding], courses: list[Course], episodes: list[FlagEpisode], today: date) -> list[Alert]:
    """Each current escalation in rank order; flags from one rule at one level make one line (R06's
    weakness and dark urine: "Dark or cola-coloured urine + new muscle weakness on Simvastatin")."""
    groups: dict[tuple, list[Finding]] = {}
    order: list[tuple | Finding] = []
    for finding in findings:
        if finding.status != Finding.Status.ESCALATION:
            continue
        if "flag" not in (finding.counts or {}):
            order.append(finding)
            continue
        group = (finding.rule, finding.trigger, finding.escalation)
        if group not in groups:
            groups[group] = []
            order.append(group)
        groups[group].append(finding)
    return [
        flag_alert(groups[item], courses, episodes, today)
        if isinstance(item, tuple)
        else escalation(item, courses, today)
        for item in order
    ]


def flag_alert(findings: list[Finding], courses: list[Course], episodes: list[FlagEpisode], today: date) -> Alert:
    first_finding = findings[0]
    names = sorted((f.counts["flag"] for f in findings), key=_flag_order)
    first = min(date.fromisoformat(f.counts["first_reported"]) for f in findings)
    last = max(date.fromisoformat(f.counts["last_reported"]) for f in findings)
    reports = [e for e in episodes if e.flags & set(names) and first <= e.day <= last]
    times = len(reports) if reports else sum(f.counts.get("reports", 1) for f in findings)
    what = " + ".join(_flag_words(name, reports, i > 0) for i, name in enumerate(names))
    query = " ".join(q for name in names if (q := FLAG_WORDS.get(name, ("", ""))[1]))
    if first_finding.rule == "R06":  # weakness or dark urine while on a statin or nicotinic acid
        medicine = _myopathy_medicine(courses, last, today)
        what += f" on {medicine.name}" if medicine else f" while taking {UNNAMED}"
        query = "?myopathy"
    if first_finding.trigger == "rf_lumbar_stenosis":
        query = "?spinal stenosis"
    return Alert(first_finding.escalation, what, query, "reported " + _dates(first, last, times, today), flag=True)


def acknowledged_flag(row: RedFlagAcknowledgement, episodes: list[FlagEpisode], zone: ZoneInfo, today: date) -> Alert:
    first, last = row.first_reported_on, row.last_reported_on
    reports = [e for e in episodes if row.flag in e.flags and first <= e.day <= last]
    return Alert(
        "",
        _flag_words(row.flag, reports, False),
        FLAG_WORDS.get(row.flag, ("", ""))[1],
        # The count flags (walking pain, long cramps) are not checklist boxes: their number is not known here.
        "reported " + _dates(first, last, len(reports) or None, today),
        acknowledged_on=row.acknowledged_at.astimezone(zone).date(),
        flag=True,
    )


def escalation(finding: Finding, courses: list[Course], today: date) -> Alert:
    """An escalation that is not a reported red flag: a rise after a medicine, a trend, a pattern."""
    numbers = _numbers(finding)
    if finding.rule == "R06":
        course, on = _course_change(finding.key, courses)
        if course is None or on is None:
            return Alert(finding.escalation, f"Cramps up after starting or increasing {UNNAMED}", numbers=numbers)
        event = "starting" if on == course.started_on else "a dose increase of"
        what = f"Cramps up after {event} {course.name}"
        return Alert(finding.escalation, what, when=f"since {_day(on, today)}", numbers=numbers)
    if finding.rule == "R06b":  # the quinine guardrail
        course, _ = _course_change(finding.key, courses)
        if course is None:
            return Alert(finding.escalation, f"A safety warning about {UNNAMED}")
        return Alert(finding.escalation, f"Quinine logged ({course.name}): not advised for cramps", "bleeding risk")
    words = {
        "R07": ("Cramps becoming more frequent", ""),
        "R07:burden": ("Sleep broken by cramps 4+ nights a week for 4 weeks, despite stretching", ""),
        "R09": ("One-sided cramps with back pain or numbness", "?radiculopathy"),
        "R09:thigh": ("Mostly thigh cramps (unusual for night cramps)", ""),
        "R01": ("Urge to move without a hard knot", "?restless legs"),
    }
    # Never the message: it is written to the patient. An escalation not named above gets its rule's title.
    what, query = words.get(finding.key, (RULES[finding.rule].title if finding.rule in RULES else "Escalation", ""))
    return Alert(finding.escalation, what, query, numbers=numbers)


def _flag_order(name: str) -> int:
    return list(FLAG_WORDS).index(name) if name in FLAG_WORDS else len(FLAG_WORDS)


def _flag_words(name: str, reports: list[FlagEpisode], joined: bool) -> str:
    words = FLAG_WORDS.get(name, (name.replace("_", " ").capitalize(), ""))[0]
    sides = {e.side for e in reports if name in e.flags} if name in SIDED else set()
    one_side = sides.pop() if len(sides) == 1 and sides != {"both"} else ""
    words = words.replace("{side}", f"{one_side} " if one_side else "")
    if name in SIDED and not one_side and reports:
        words += ", both sides"
    return words[0].lower() + words[1:] if joined else words


def _myopathy_medicine(courses: list[Course], last: date, today: date) -> Course | None:
    """The statin or nicotinic acid taken at the latest report (else today), as R06's rule found it."""
    for on in (last, today):
        for course in courses:
            taking = course.started_on <= on and (course.stopped_on is None or on <= course.stopped_on)
            if course.drug_class in MYOPATHY_CLASSES and taking:
                return course
    return None


def _course_change(key: str, courses: list[Course]) -> tuple[Course | None, date | None]:
    """R06 keys are "R06:<course uuid>:<date of the start or increase>"; a hidden finding's key names none."""
    parts = key.split(":")
    course = next((c for c in courses if c.uuid in parts), None)
    on: date | None
    try:
        on = date.fromisoformat(parts[-1])
    except ValueError:
        on = course.started_on if course else None
    return course, on


def _numbers(finding: Finding) -> str:
    counts = finding.counts or {}
    if counts.get("nights_exposed") is None:
        return ""
    after, before = ("after", "before") if finding.rule == "R06" else ("recently", "before")
    text = (
        f"{counts['cramps_exposed']} cramps in {counts['nights_exposed']} logged nights {after} vs "
        f"{counts['cramps_other']} in {counts['nights_other']} {before}"
    )
    if finding.rate_ratio is not None:
        text += f"; rate ratio {finding.rate_ratio:.1f}"
        if finding.ci_low is not None:
            high = "∞" if finding.ci_high is None else f"{finding.ci_high:.1f}"
            text += f" ({finding.ci_low:.1f}–{high})"
    return text


def _day(day: date, today: date) -> str:
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def _dates(first: date, last: date, times: int | None, today: date) -> str:
    """ "27 Nov", "30 Nov and 3 Dec", "4 times, 30 Nov to 9 Dec"; "30 Nov to 9 Dec" when `times` is unknown."""
    if first == last:
        return _day(first, today) if (times or 1) == 1 else f"{times} times on {_day(first, today)}"
    if times is None:
        return f"{_day(first, today)} to {_day(last, today)}"
    if times == 2:
        return f"{_day(first, today)} and {_day(last, today)}"
    return f"{times} times, {_day(first, today)} to {_day(last, today)}"
