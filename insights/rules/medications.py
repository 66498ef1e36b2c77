"""Medication starts and dose increases (R06), and the neutral before/after view of supplements and therapies (R06b)."""

from dataclasses import dataclass
from datetime import date, timedelta

from diary.choices import DrugClass

from .. import stats
from ..diary_stats import DiaryStats
from ..findings import (
    ESCALATION,
    HIGHER,
    INFO,
    INSUFFICIENT,
    LEVEL_ACTION,
    NO_PATTERN,
    Finding,
    comparison_words,
    interval_words,
)
from ..panel import Course

DIURETICS = {DrugClass.THIAZIDE_DIURETIC, DrugClass.POTASSIUM_SPARING_DIURETIC, DrugClass.LOOP_DIURETIC}


MEDICATION_TRIGGERS = {
    **{cls: "med_diuretic" for cls in DIURETICS},
    DrugClass.STATIN: "med_statin",
    DrugClass.RALOXIFENE: "med_raloxifene",
    DrugClass.NIFEDIPINE: "med_nifedipine",
    DrugClass.OTHER_CALCIUM_CHANNEL_BLOCKER: "med_nifedipine",
    DrugClass.NICOTINIC_ACID: "med_nicotinic_acid",
    DrugClass.INHALED_LABA: "med_other_associated",
    DrugClass.CONJUGATED_OESTROGENS: "med_other_associated",
    DrugClass.TERIPARATIDE: "med_other_associated",
    DrugClass.IV_IRON: "med_other_associated",
    DrugClass.NAPROXEN: "med_other_associated",
}


LONG_WINDOW = DIURETICS | {DrugClass.INHALED_LABA}


PRE_DAYS, MIN_SIDE_NIGHTS = 28, 14


@dataclass(frozen=True)
class Change:
    """A course start or dose increase and its before/after windows of nights (inclusive dates)."""

    course: Course
    trigger: str
    start: date
    pre: tuple[date, date]
    post: tuple[date, date]
    early: tuple[date, date]  # the first 28 nights after, for "new cramp nights"


def _change(course: Course, trigger: str, start: date, post_days: int) -> Change:
    return Change(
        course,
        trigger,
        start,
        (start - timedelta(days=PRE_DAYS), start - timedelta(days=1)),
        (start + timedelta(days=1), start + timedelta(days=post_days)),
        (start + timedelta(days=1), start + timedelta(days=28)),
    )


def medication_changes(courses: list[Course]) -> list[Change]:
    """R06's change points, in course order: each start and dose increase of a medicine linked to cramps."""
    out = []
    for course in courses:
        trigger = MEDICATION_TRIGGERS.get(course.drug_class)
        if trigger is None:
            continue
        post_days = 90 if course.drug_class in LONG_WINDOW else 56
        for start in [course.started_on, *course.increases]:
            out.append(_change(course, trigger, start, post_days))
    return out


def supplement_changes(courses: list[Course]) -> list[Change]:
    """R06b: the start of each supplement or therapy."""
    return [
        _change(course, SUPPLEMENT_TRIGGER.get(course.drug_class, "rx_mg_ca_supplements"), course.started_on, 56)
        for course in courses
        if course.drug_class in SUPPLEMENT_OR_THERAPY
    ]


def r06_medication_starts(d: DiaryStats) -> list[Finding]:
    return [
        _medication_change_point(change, c, new_cramp_nights)
        for change, (c, new_cramp_nights) in zip(medication_changes(d.courses), d.changes, strict=True)
    ]


def _medication_change_point(change: Change, c: stats.Comparison, new_cramp_nights: int) -> Finding:
    course, trigger, start = change.course, change.trigger, change.start
    event = "started" if start == course.started_on else "increased the dose of"
    key = f"R06:{course.uuid}:{start.isoformat()}"
    base = dict(
        rule="R06", trigger=trigger, key=key, counts=c.counts, rate_ratio=c.rate_ratio, ci95=(c.ci_low, c.ci_high)
    )
    numbers = comparison_words(c, "nights after", "nights before")
    if c.nights_other < MIN_SIDE_NIGHTS:
        return Finding(
            **base,
            status=INFO,
            message=f"You {event} {course.name} on {start:%d %b %Y}, without 2 weeks of diary before it, so "
            "CrampTrack can't compare before and after.",
        )
    verdict = stats.gate(c, min_nights=MIN_SIDE_NIGHTS)
    fired = verdict.status == HIGHER or (c.cramps_other == 0 and new_cramp_nights >= 3)
    if fired:
        return Finding(
            **base,
            status=ESCALATION,
            escalation="E2",
            message=f"Your cramps increased after you {event} {course.name} ({numbers}{interval_words(c)}). "
            "Cramps are a known side effect of some medicines. Please discuss it with your prescriber, and "
            f"don't stop it on your own. {LEVEL_ACTION['E2']}",
        )
    if c.nights_exposed < MIN_SIDE_NIGHTS:
        needed = MIN_SIDE_NIGHTS - c.nights_exposed
        return Finding(
            **base,
            status=INSUFFICIENT,
            nights_needed=needed,
            message=f"Since you {event} {course.name}: {numbers}. About {needed} more logged nights are needed "
            "to compare before and after.",
        )
    return Finding(**base, status=NO_PATTERN, message=f"No clear change after you {event} {course.name}: {numbers}.")


def r06b_supplements(d: DiaryStats) -> list[Finding]:
    """Supplements and therapies: before/after as data only, never credited."""
    return [
        Finding(
            "R06b",
            change.trigger,
            f"R06b:{change.course.uuid}",
            INFO,
            f"Before and after {change.course.name}: {comparison_words(c, 'nights after', 'nights before')}. Cramps "
            "often ease by themselves after a bad spell, so a before/after change can't show that it works.",
            counts=c.counts,
            rate_ratio=c.rate_ratio,
            ci95=(c.ci_low, c.ci_high),
        )
        for change, c in zip(supplement_changes(d.courses), d.supplements, strict=True)
    ]


SUPPLEMENT_OR_THERAPY = {
    DrugClass.MAGNESIUM,
    DrugClass.CALCIUM,
    DrugClass.OTHER_SUPPLEMENT,
    DrugClass.ACUPUNCTURE,
    DrugClass.MASSAGE_THERAPY,
    DrugClass.CHIROPRACTIC,
    DrugClass.OTHER_THERAPY,
}


SUPPLEMENT_TRIGGER = {
    DrugClass.ACUPUNCTURE: "rx_acupuncture",
    DrugClass.CHIROPRACTIC: "rx_chiropractic_realignment",
    DrugClass.MASSAGE_THERAPY: "rx_massage",
}
