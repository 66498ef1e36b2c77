"""Exposure rules behind the statistical gate: exercise (R02), cold (R03), fluids and sweating (R04), long
sitting or standing (R10), stress (R16) and the bedtime-stretch trial (R17).

Exposures are 1/0 per logged night, NaN where the check-in did not record them:
an unrecorded exposure is never read as "no"."""

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import stats
from ..findings import (
    HIGHER,
    INFO,
    INSUFFICIENT,
    LOWER,
    NO_PATTERN,
    Finding,
    active_course,
    comparison_words,
    interval_words,
    ratio_words,
)
from ..panel import Panel
from .medications import DIURETICS


@dataclass
class ExposureRule:
    rule: str
    trigger: str
    key: str
    exposed_words: str  # "nights after harder exercise"
    other_words: str
    record_words: str  # the check-in answer it needs: "exercise minutes or 'harder than usual'"
    alpha: float  # this rule's share of stats.ALPHA_PATTERNS
    tip_higher: str = ""
    tip_lower: str = ""
    two_sided: bool = False
    exploratory: bool = False
    lower_words: str = ""  # what a lower rate means, for two-sided rules
    no_pattern_words: str = ""
    topic: str = ""  # what it compares, in a list of several: "cold feet"

    def evaluate(self, c: stats.Comparison, logged_nights: int) -> Finding:
        label = " (exploratory)" if self.exploratory else ""
        if not stats.enough_data(c):
            return self._not_yet(c, logged_nights, label)
        if self.two_sided:
            low, high = stats.confidence_sequence(c, self.alpha)
            firm_low, firm_high = stats.confidence_sequence(c, self.alpha / stats.FIRM_FACTOR)
        else:
            low, high = stats.one_sided_sequence(c, self.alpha)
            firm_low, firm_high = stats.one_sided_sequence(c, self.alpha / stats.FIRM_FACTOR)
        rr = c.rate_ratio
        numbers = comparison_words(c, self.exposed_words, self.other_words) + interval_words((low, high))
        base: dict[str, Any] = dict(
            rule=self.rule, trigger=self.trigger, key=self.key, counts=c.counts, rate_ratio=rr, interval=(low, high)
        )
        if low > 1 and (rr is None or rr >= stats.MIN_RATE_RATIO):
            return Finding(
                **base,
                status=HIGHER,
                firm=firm_low > 1,
                tip=self.tip_higher,
                message=f"{_lead(firm_low > 1)}{label}: on {self.exposed_words} you logged cramps {ratio_words(rr)} "
                f"({numbers}). This is an association in your diary, not proof of a cause.",
            )
        if high < 1:
            if self.two_sided and rr is not None and rr <= 1 / stats.MIN_RATE_RATIO:
                return Finding(
                    **base,
                    status=LOWER,
                    firm=firm_high < 1,
                    tip=self.tip_lower,
                    message=f"{_lead(firm_high < 1)}{label}: fewer cramps on {self.exposed_words} ({numbers}). "
                    f"{self.lower_words}".strip(),
                )
            # Fewer cramps is not what this rule looks for: say what the numbers say, and claim nothing.
            return Finding(
                **base, status=NO_PATTERN, message=f"Fewer cramps on {self.exposed_words}{label}: {numbers}."
            )
        if low > 1:
            return Finding(
                **base,
                status=NO_PATTERN,
                message=f"Slightly more cramps on {self.exposed_words}{label}, too small a difference to matter "
                f"({numbers}).",
            )
        return Finding(
            **base,
            status=NO_PATTERN,
            message=f"No clear difference so far{label}: {numbers}. {self.no_pattern_words}".strip(),
        )

    def _not_yet(self, c: stats.Comparison, logged_nights: int, label: str) -> Finding:
        """Not testable yet, and what would make it testable, in this diary's own terms."""
        base: dict[str, Any] = dict(
            rule=self.rule, trigger=self.trigger, key=self.key, counts=c.counts, status=INSUFFICIENT
        )
        topic = f"Comparing {self.exposed_words} with {self.other_words}{label}"
        if not c.nights:
            return Finding(
                **base,
                message=f"{topic} needs your check-in answer on {self.record_words}; you haven't recorded it yet.",
            )
        if not c.nights_exposed or not c.nights_other:
            which = "none" if not c.nights_exposed else "all"
            return Finding(
                **base,
                message=f"{topic}: {which} of the {c.nights} nights with {self.record_words} recorded so far were "
                f"{self.exposed_words}, so there is nothing to compare yet.",
            )
        needed = stats.nights_to_testable(c, logged_nights)
        numbers = comparison_words(c, self.exposed_words, self.other_words)
        if needed is None:
            more = "a first cramp logged"
        elif needed > 365:
            more = f"at your pace, more than a year of logging {self.record_words}"
        else:
            more = f"at your pace, about {needed} more logged nights with {self.record_words} recorded"
        return Finding(
            **base,
            nights_needed=needed,
            message=f"Not enough data yet. {topic}: {numbers}. Testing needs at least {stats.MIN_NIGHTS_EACH_SIDE} "
            f"nights of each kind and {stats.MIN_CRAMPS} cramps: {more}.",
        )


def _lead(firm: bool) -> str:
    """Firmer words only when the range at a FIRM_FACTOR times stricter level also excludes no effect."""
    return "A pattern that has held up" if firm else "Possible pattern"


def _flag(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), np.nan, (values == 1).astype(float))


def _any_of(*conditions: np.ndarray) -> np.ndarray:
    """1 if any known condition holds, 0 if all known ones are false, NaN if none is known."""
    stacked = np.vstack(conditions)
    known = ~np.isnan(stacked)
    hit = np.nan_to_num(stacked, nan=0.0).max(axis=0)
    return np.where(known.any(axis=0), hit, np.nan)


def _at_least(values: np.ndarray, threshold: float) -> np.ndarray:
    return np.where(np.isnan(values), np.nan, (values >= threshold).astype(float))


def _at_most(values: np.ndarray, threshold: float) -> np.ndarray:
    return np.where(np.isnan(values), np.nan, (values <= threshold).astype(float))


def _quantile(values: np.ndarray, q: float) -> float | None:
    known = values[~np.isnan(values)]
    if known.size < 8 or np.ptp(known) == 0:
        return None  # too few or all equal: no personal quartile to speak of
    return float(np.quantile(known, q))


def _no_exposure(panel: Panel) -> np.ndarray:
    return np.full(panel.logged_nights, np.nan)


def fluid_rule_blocked(panel) -> str:
    p = panel.profile
    if active_course(panel, DIURETICS, panel.today):
        return "you take a diuretic"
    for name, words in (
        ("has_heart_failure", "heart failure"),
        ("has_kidney_disease", "kidney disease"),
        ("has_liver_disease", "liver disease"),
        ("on_fluid_restriction", "a fluid restriction"),
    ):
        if p.get(name):
            return f"you have {words}" if name != "on_fluid_restriction" else "you are on a fluid restriction"
    return ""


R02 = ExposureRule(
    "R02",
    "tr_overuse_exertion",
    "R02",
    "nights after harder exercise",
    "other nights",
    "exercise minutes or 'harder than usual'",
    0.012,
    tip_higher="Build up training gradually, and stretch your calves after exercise and at bedtime.",
    topic="harder exercise",
)
R02S = ExposureRule(
    "R02",
    "tr_overuse_exertion",
    "R02s",
    "nights after your least active days",
    "other nights",
    "exercise minutes",
    0.0028,
    tip_higher="Regular light activity, such as a daily walk, may help.",
    topic="your least active days",
)
R03 = ExposureRule(
    "R03",
    "tr_cold_exposure",
    "R03",
    "nights your feet were cold or uncovered",
    "other nights",
    "cold feet",
    0.012,
    two_sided=True,
    tip_higher="Warm socks or extra bedding are an easy, harmless thing to try. The evidence on cold is "
    "mixed, so let your diary tell you.",
    lower_words="Cold doesn't look like a trigger for you.",
    no_pattern_words="So far cold doesn't look like a trigger for you.",
    topic="cold feet",
)
R04 = ExposureRule(
    "R04",
    "tr_dehydration",
    "R04",
    "nights after your lowest-fluid days",
    "other nights",
    "fluids",
    0.012,
    tip_higher="Drinking to thirst, with a little extra in heat or exercise, is reasonable. More isn't "
    "better: forcing down large amounts doesn't prevent cramps.",
    topic="low-fluid days",
)
R04S = ExposureRule(
    "R04",
    "tr_sweat_electrolyte_loss",
    "R04s",
    "nights after heavy sweating, heat, vomiting or diarrhoea",
    "other nights",
    "heavy sweating or vomiting and diarrhoea",
    0.0028,
    tip_higher="On long, sweaty days eat and salt your food normally; drink to thirst.",
    topic="heavy sweating or stomach upsets",
)
R10 = ExposureRule(
    "R10",
    "tr_prolonged_position",
    "R10",
    "nights after long sitting or standing days",
    "other nights",
    "hours sitting or standing",
    0.0028,
    tip_higher="Break up long sitting or standing: a short walk, ankle circles or calf raises every hour.",
    topic="long sitting or standing",
)
R16 = ExposureRule(
    "R16",
    "tr_stress",
    "R16",
    "nights after high-stress evenings (7 or more out of 10)",
    "other nights",
    "stress",
    0.0028,
    exploratory=True,
    tip_higher="A relaxing wind-down routine before bed can't hurt.",
    topic="stress",
)
R17 = ExposureRule(
    "R17",
    "rx_stretch_strength_program",
    "R17",
    "stretch nights",
    "no-stretch nights",
    "bedtime stretching",
    0.0028,
    two_sided=True,
    lower_words="In your own trial, nights with the bedtime stretch had fewer cramps.",
    no_pattern_words="In your own trial the bedtime stretch made no clear difference.",
    topic="the bedtime stretch",
)


# Every exposure rule: their alphas share out stats.ALPHA_PATTERNS (a test checks the sum), and the
# weekly email looks them up by finding key for its words about what is still open.
ALL_RULES = (R02, R02S, R03, R04, R04S, R10, R16, R17)
BY_KEY = {rule.key: rule for rule in ALL_RULES}


def exposure_rules(d) -> list[ExposureRule]:
    """The exposure rules that apply to a diary (a Panel or DiaryStats), in the order they are reported."""
    rules = [R02, R02S, R03, R04S, R10, R16]
    if not fluid_rule_blocked(d):
        rules.insert(3, R04)
    if d.profile.get("stretch_trial_started_on"):
        rules.append(R17)
    return rules


def exposures(panel: Panel) -> dict[str, np.ndarray]:
    """Each exposure rule's nights: 1/0 per logged night, NaN where not recorded."""
    ctx = panel.context
    minutes = ctx["exercise_minutes"]
    known_minutes = minutes[~np.isnan(minutes) & (minutes > 0)]
    median = float(np.median(known_minutes)) if known_minutes.size else np.inf
    hard = _any_of(_at_least(minutes, 60), _at_least(minutes, 1.5 * median), _flag(ctx["harder_than_usual"]))
    low_cut = _quantile(minutes, 1 / 3)
    fluid_cut = _quantile(ctx["fluids_cups"], 0.25)
    sit_cut, stand_cut = _quantile(ctx["hours_sitting"], 0.75), _quantile(ctx["hours_standing"], 0.75)
    long_position = _any_of(
        _at_least(ctx["hours_sitting"], sit_cut) if sit_cut is not None else _no_exposure(panel),
        _at_least(ctx["hours_standing"], stand_cut) if stand_cut is not None else _no_exposure(panel),
    )
    out = {
        "R02": hard,
        "R02s": _at_most(minutes, low_cut) if low_cut is not None else _no_exposure(panel),
        "R03": _flag(ctx["feet_cold"]),
        "R04": _at_most(ctx["fluids_cups"], fluid_cut) if fluid_cut is not None else _no_exposure(panel),
        "R04s": _any_of(_flag(ctx["heavy_sweating"]), _flag(ctx["vomiting_diarrhoea"])),
        "R10": long_position,
        "R16": _at_least(ctx["stress"], 7),
    }
    trial = stretch_trial_nights(panel)
    if trial is not None:
        out["R17"] = trial
    return out


def fluid_rule_note(panel) -> Finding | None:
    blocked = fluid_rule_blocked(panel)
    if not blocked:
        return None
    return Finding(
        "R04",
        "tr_dehydration",
        "R04",
        INFO,
        f"CrampTrack doesn't give fluid advice because {blocked}. Ask your clinician what is right for you on "
        "fluids and blood salts.",
    )


def stretch_trial_nights(panel: Panel) -> np.ndarray | None:
    """R17: within an opted-in trial, 1 on nights stretched, 0 on nights not; NaN outside the trial."""
    started = panel.profile.get("stretch_trial_started_on")
    if not started:
        return None
    in_trial = panel.nights >= np.datetime64(started)
    return np.where(in_trial, _flag(panel.context["stretched_before_bed"]), np.nan)
