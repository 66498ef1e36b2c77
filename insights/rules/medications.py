"""Medication starts and dose increases (R06), and the neutral before/after view of supplements and therapies (R06b)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from diary.choices import DrugClass

from .. import stats
from ..diary_stats import DiaryStats
from ..findings import (
    ESCALATION,
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


MEDICATION_TRIGGERS: dict[str, str] = {
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


PRE_DAYS, MIN_SIDE_NIGHTS = 56, 14
# R06's pre-registered looks, in days after the start: the verdict at each look is an exact test at its share
# of ALPHA_PER_CHANGE (O'Brien-Fleming-type spending), and stands until the next look.
LOOK_DAYS = {56: (14, 28, 42, 56), 90: (14, 28, 42, 56, 70, 90)}
MIN_POST_NIGHTS = 7
# A diary's statistical escalations share stats.ALPHA_ESCALATION: 40% for each medicine change, 40% for R07, and a
# fifth kept back because the dispersion-deflated exact tests run slightly over their level (bench/honesty.py).
ALPHA_PER_CHANGE = 0.4 * stats.ALPHA_ESCALATION


@dataclass(frozen=True)
class Change:
    """A course start or dose increase and its before/after windows of nights (inclusive dates)."""

    course: Course
    trigger: str
    start: date
    pre: tuple[date, date]
    post: tuple[date, date]
    looks: tuple[int, ...]  # days after the start

    def post_until(self, day: int) -> tuple[date, date]:
        return self.post[0], self.start + timedelta(days=day)


def _change(course: Course, trigger: str, start: date, post_days: int) -> Change:
    return Change(
        course,
        trigger,
        start,
        (start - timedelta(days=PRE_DAYS), start - timedelta(days=1)),
        (start + timedelta(days=1), start + timedelta(days=post_days)),
        LOOK_DAYS[post_days],
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
        _medication_change_point(change, looks, d.today)
        for change, looks in zip(medication_changes(d.courses), d.changes, strict=True)
    ]


def _medication_change_point(change: Change, looks: list[tuple[int, stats.Comparison]], today: date) -> Finding:
    """The verdict of the last scheduled look that has happened; an increase found at a look stands."""
    course, trigger, start = change.course, change.trigger, change.start
    event = "started" if start == course.started_on else "increased the dose of"
    key = f"R06:{course.uuid}:{start.isoformat()}"
    base: dict[str, Any] = dict(rule="R06", trigger=trigger, key=key)
    if not looks:
        first_look = start + timedelta(days=change.looks[0] + 1)
        return Finding(
            **base,
            status=INSUFFICIENT,
            message=f"You {event} {course.name} on {start:%d %b %Y}. CrampTrack compares the nights before and "
            f"after it from {first_look:%d %b %Y}, once 2 weeks have passed.",
        )
    spent, c, interval = 0.0, looks[-1][1], None
    for day, c in looks:
        alpha = stats.obrien_fleming_spent(ALPHA_PER_CHANGE, day / change.looks[-1]) - spent
        spent += alpha
        if c.nights_other < MIN_SIDE_NIGHTS:
            break
        if c.nights_exposed < MIN_POST_NIGHTS or not c.cramps:
            continue  # this look's share of alpha goes unspent
        interval = stats.exact_interval(c, 2 * alpha)
        if interval[0] > 1 and (c.rate_ratio is None or c.rate_ratio >= stats.MIN_RATE_RATIO):
            numbers = comparison_words(c, "nights after", "nights before") + interval_words(interval)
            return Finding(
                **base,
                status=ESCALATION,
                escalation="E2",
                counts=c.counts,
                rate_ratio=c.rate_ratio,
                interval=interval,
                message=f"Your cramps increased after you {event} {course.name} ({numbers}). Cramps are a known "
                "side effect of some medicines. Please discuss it with your prescriber, and don't stop it on your "
                f"own. {LEVEL_ACTION['E2']}",
            )
    base.update(counts=c.counts, rate_ratio=c.rate_ratio, interval=interval)
    numbers = comparison_words(c, "nights after", "nights before")
    if c.nights_other < MIN_SIDE_NIGHTS:
        return Finding(
            **base,
            status=INFO,
            message=f"You {event} {course.name} on {start:%d %b %Y}, without 2 weeks of diary before it, so "
            "CrampTrack can't compare before and after.",
        )
    if interval is None:
        return Finding(
            **base,
            status=INSUFFICIENT,
            message=f"Since you {event} {course.name}: {numbers}. Too few nights or cramps to compare yet; "
            "keep logging, including the nights without cramps.",
        )
    done = looks[-1][0] >= change.looks[-1]
    words = "No clear change" if done else "No clear change so far"
    return Finding(
        **base,
        status=NO_PATTERN,
        message=f"{words} after you {event} {course.name}: {numbers}{interval_words(interval)}.",
    )


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


SUPPLEMENT_TRIGGER: dict[str, str] = {
    DrugClass.ACUPUNCTURE: "rx_acupuncture",
    DrugClass.CHIROPRACTIC: "rx_chiropractic_realignment",
    DrugClass.MASSAGE_THERAPY: "rx_massage",
}
