"""Medication starts and dose increases (R06), and the neutral before/after view of supplements and therapies (R06b)."""

from datetime import date, timedelta

import numpy as np

from diary.choices import DrugClass

from .. import stats
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
from ..panel import Panel

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


def r06_medication_starts(panel: Panel) -> list[Finding]:
    out = []
    for course in panel.courses:
        trigger = MEDICATION_TRIGGERS.get(course.drug_class)
        if trigger is None:
            continue
        for start in [course.started_on, *course.increases]:
            out.append(_medication_change_point(panel, course, trigger, start))
    return out


def _medication_change_point(panel: Panel, course, trigger: str, start: date) -> Finding:
    event = "started" if start == course.started_on else "increased the dose of"
    key = f"R06:{course.uuid}:{start.isoformat()}"
    post_days = 90 if course.drug_class in LONG_WINDOW else 56
    pre = panel.window(start - timedelta(days=PRE_DAYS), start - timedelta(days=1))
    post = panel.window(start + timedelta(days=1), start + timedelta(days=post_days))
    exposure = np.where(post, 1.0, np.where(pre, 0.0, np.nan))
    c = stats.compare(panel.cramps, exposure)
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
    first_28 = panel.window(start + timedelta(days=1), start + timedelta(days=28))
    new_cramp_nights = int((panel.cramps[first_28] > 0).sum())
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


def r06b_supplements(panel: Panel) -> list[Finding]:
    """Supplements and therapies: before/after as data only, never credited."""
    out = []
    for course in panel.courses:
        if course.drug_class not in SUPPLEMENT_OR_THERAPY:
            continue
        start = course.started_on
        pre = panel.window(start - timedelta(days=PRE_DAYS), start - timedelta(days=1))
        post = panel.window(start + timedelta(days=1), start + timedelta(days=56))
        c = stats.compare(panel.cramps, np.where(post, 1.0, np.where(pre, 0.0, np.nan)))
        out.append(
            Finding(
                "R06b",
                SUPPLEMENT_TRIGGER.get(course.drug_class, "rx_mg_ca_supplements"),
                f"R06b:{course.uuid}",
                INFO,
                f"Before and after {course.name}: {comparison_words(c, 'nights after', 'nights before')}. Cramps "
                "often ease by themselves after a bad spell, so a before/after change can't show that it works.",
                counts=c.counts,
                rate_ratio=c.rate_ratio,
                ci95=(c.ci_low, c.ci_high),
            )
        )
    return out


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
