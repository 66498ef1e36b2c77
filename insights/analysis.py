"""Pattern analysis of one diary: pure functions from a Panel to Findings.

The rules, thresholds and wording follow triggers.md sections 4.2 to 4.4.
Hard-stop rules (red flags) fire on the first report; exposure rules must pass
the statistical gate in insights.stats; every message shows its counts,
calls a first detection a "possible pattern", never claims a cause, and
names the guidance behind it. While an E0-E2 escalation is active no
lifestyle tip is given.

Deliberate departures from triggers.md, each to avoid a false alarm:
- R04 (fluids) is not run for people on a diuretic, with heart, kidney or
  liver disease, or on a fluid restriction, as specified, but this does not
  raise an E2 by itself: having a condition is not a new finding, and an E2
  would silence every other tip for everyone on a diuretic. The finding says
  to ask their clinician about fluids instead.
- A red flag is active for 28 days after its last report, then drops back.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
from scipy import stats as scipy_stats

from diary.choices import DrugClass

from . import stats
from .catalogue import cite
from .panel import Panel

ANALYSIS_VERSION = "1.0"

INSUFFICIENT = "insufficient_data"
NO_PATTERN = "no_clear_pattern"
HIGHER = "possible_pattern_higher"
LOWER = "possible_pattern_lower"
ESCALATION = "escalation"
INFO = "info"

RED_FLAG_DAYS = 28
PERSIST_NIGHTS = 14

LEVEL_ACTION = {
    "E0": "Call emergency services now.",
    "E1": "Get medical help today.",
    "E2": "Book a visit with a clinician in the next week or two.",
    "E3": "Mention it at your next routine visit.",
}


@dataclass
class Finding:
    rule: str
    trigger: str
    key: str  # stable within a diary, e.g. "R06:<course id>"
    status: str
    message: str
    tip: str = ""
    escalation: str | None = None
    counts: dict = field(default_factory=dict)
    rate_ratio: float | None = None
    ci95: tuple[float | None, float | None] | None = None
    nights_needed: int | None = None
    firm: bool = False
    first_detected_nights: int | None = None

    @property
    def source(self) -> str:
        return cite(self.trigger)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["source"] = self.source
        data["ci95"] = list(self.ci95) if self.ci95 else None
        return data


# --- entry point ---------------------------------------------------------------------


def analyse(panel: Panel, previous: dict[str, tuple[str, int]] | None = None) -> list[Finding]:
    """All findings for one diary, most urgent first.

    `previous` maps a finding key to (status, logged nights when it was first
    detected), so a pattern that persists for 14 more nights gets firmer words.
    """
    age_gate = r15_age_gate(panel)
    if age_gate:
        return [age_gate]

    findings: list[Finding] = []
    findings += red_flags(panel)
    findings += r05_claudication(panel)
    findings += r14_atypical(panel)
    findings += quinine_guardrail(panel)
    findings += [r01_night_pattern(panel)]
    findings += [rule.evaluate(panel) for rule in exposure_rules(panel)]
    findings += r06_medication_starts(panel)
    findings += r06b_supplements(panel)
    findings += r07_trend_and_burden(panel)
    findings += [r08_time_of_night(panel), *r09_side_and_site(panel)]
    if panel.profile.get("pregnant"):
        findings.append(r11_pregnancy(panel))

    _apply_persistence(findings, panel.logged_nights, previous or {})
    _apply_precedence(findings, pregnant=bool(panel.profile.get("pregnant")))
    return sorted(findings, key=_urgency)


def _urgency(finding: Finding):
    level = {"E0": 0, "E1": 1, "E2": 2, "E3": 4}.get(finding.escalation or "", 9)
    status = {ESCALATION: 0, HIGHER: 3, LOWER: 3, INFO: 5, INSUFFICIENT: 6, NO_PATTERN: 7}[finding.status]
    strength = -(finding.ci95[0] or 0) if finding.ci95 and finding.status == HIGHER else 0
    return (min(level, status), level, status, strength, finding.key)


def _apply_precedence(findings: list[Finding], *, pregnant: bool) -> None:
    """triggers.md 4.4: an active E0-E2 escalation suppresses lifestyle tips."""
    urgent = any(f.escalation in ("E0", "E1", "E2") for f in findings)
    for finding in findings:
        if urgent and finding.status != ESCALATION:
            finding.tip = ""
        elif pregnant and finding.rule not in ("R11", "R01"):
            finding.tip = ""  # pregnancy mode: only the restricted R11 tips


def _apply_persistence(findings: list[Finding], logged: int, previous: dict) -> None:
    for finding in findings:
        if finding.status not in (HIGHER, LOWER):
            continue
        status, first = previous.get(finding.key, (None, None))
        if status == finding.status and first is not None:
            finding.first_detected_nights = first
            if logged - first >= PERSIST_NIGHTS:
                finding.firm = True
                finding.message = finding.message.replace("Possible pattern:", "A pattern that has held up:", 1)
        else:
            finding.first_detected_nights = logged


# --- helpers ---------------------------------------------------------------------------


def _recent(panel: Panel, days: int) -> np.ndarray:
    since = np.datetime64(panel.today - timedelta(days=days))
    return panel.episodes.started_on > since


def _comparison_words(c: stats.Comparison, exposed: str, other: str) -> str:
    return f"{c.cramps_exposed} cramps in {c.nights_exposed} {exposed} vs {c.cramps_other} in {c.nights_other} {other}"


def _interval_words(c: stats.Comparison) -> str:
    if c.ci_low is None:
        return ""
    high = "no upper limit yet" if c.ci_high is None else f"{c.ci_high:.1f}"
    return f"; 95% interval {c.ci_low:.1f} to {high}"


def _ratio_words(rate_ratio: float | None) -> str:
    return "far more often" if rate_ratio is None else f"about {rate_ratio:.1f}× as often"


def _escalate(rule, trigger, key, level, what, extra="") -> Finding:
    message = f"{what} {LEVEL_ACTION[level]}"
    if extra:
        message += f" {extra}"
    return Finding(rule, trigger, key, ESCALATION, message, escalation=level)


def _active_course(panel: Panel, classes: set[str], on: date) -> object | None:
    for course in panel.courses:
        if (
            course.drug_class in classes
            and course.started_on <= on
            and (course.stopped_on is None or on <= course.stopped_on)
        ):
            return course
    return None


# --- hard stops: R12, R13, R05, R14, quinine ---------------------------------------------


def red_flags(panel: Panel) -> list[Finding]:
    """R12 and R13 fire on the first report within the last 28 days."""
    recent = _recent(panel, RED_FLAG_DAYS)
    flags = panel.episodes.flags

    def reported(name):
        return bool((flags[name] & recent).any())

    out: list[Finding] = []
    if reported("breathless_chest_pain"):
        out.append(
            _escalate(
                "R13",
                "rf_dvt",
                "R13:breathless",
                "E0",
                "You reported breathlessness or chest pain with your leg symptoms. Together these can be a sign of "
                "a blood clot that has moved to the lungs.",
            )
        )
    if reported("calf_swelling"):
        out.append(
            _escalate(
                "R13",
                "rf_dvt",
                "R13:swelling",
                "E1",
                "You reported a swollen, red or warm calf. That can be a sign of a blood clot (DVT), which a "
                "clinician should check.",
                "Don't massage that calf in the meantime.",
            )
        )
    if reported("saddle_numbness"):
        out.append(
            _escalate(
                "R12",
                "rf_cauda_equina",
                "R12:saddle",
                "E0",
                "You reported numbness between your legs or a new bladder or bowel problem. With back or leg "
                "symptoms this needs urgent checking.",
            )
        )
    statin_or_niacin = _active_course(panel, {DrugClass.STATIN, DrugClass.NICOTINIC_ACID}, panel.today)
    for name, words in (("weakness", "new muscle weakness"), ("dark_urine", "dark or cola-coloured urine")):
        if not reported(name):
            continue
        if statin_or_niacin is not None:
            out.append(
                _escalate(
                    "R06",
                    "rf_statin_severe_myopathy",
                    f"R06:{name}",
                    "E1",
                    f"You reported {words} while taking {statin_or_niacin.name}. With this kind of medicine that "
                    "needs checking promptly.",
                    "Tell the clinician which medicines you take; don't stop a prescribed medicine on your own.",
                )
            )
        else:
            trigger = "rf_neuro_disorder" if name == "weakness" else "rf_statin_severe_myopathy"
            out.append(
                _escalate(
                    "R12",
                    trigger,
                    f"R12:{name}",
                    "E1",
                    f"You reported {words} with your cramps. A clinician should look into that.",
                )
            )
    if reported("foot_pale_cold"):
        out.append(
            _escalate(
                "R05",
                "rf_pad_claudication",
                "R05:rest_pain",
                "E1",
                "You reported a foot that was pale, blue or cold and painful at rest. That can be a sign of poor "
                "blood flow, which a clinician should check.",
            )
        )
    if reported("numbness_tingling"):
        trigger = "rf_diabetic_neuropathy" if panel.profile.get("has_diabetes") else "rf_neuro_disorder"
        out.append(
            _escalate(
                "R12",
                trigger,
                "R12:numbness",
                "E2",
                "You reported numbness or tingling in your leg or foot. This can come from a nerve problem that a "
                "clinician can check.",
            )
        )
    if reported("tingling_mouth_fingers"):
        out.append(
            _escalate(
                "R12",
                "rf_hypocalcemia",
                "R12:perioral",
                "E2",
                "You reported tingling around your mouth or in your fingers. A simple blood test can check the "
                "salts (such as calcium) that can cause it.",
            )
        )
    if reported("pain_between_cramps"):
        out.append(
            _escalate(
                "R13",
                "pat_duration",
                "R13:persistent_pain",
                "E2",
                "You reported pain that stays between cramps. Ordinary cramps ease completely, so this is worth "
                "having checked.",
            )
        )
    return out


def r05_claudication(panel: Panel) -> list[Finding]:
    """Pain that comes with walking and eases with rest, twice in 30 days (R05)."""
    e = panel.episodes
    walking = (e.walking_pain_relief != "") & _recent(panel, 30)
    count = int(walking.sum())
    if count == 0:
        return []
    sitting = int((walking & (e.walking_pain_relief == "sitting_or_bending")).sum())
    trigger = "rf_lumbar_stenosis" if sitting > count - sitting else "rf_pad_claudication"
    if count >= 2:
        return [
            _escalate(
                "R05",
                trigger,
                "R05:walking",
                "E2",
                f"Twice or more in 30 days ({count} times) you logged pain that came on while walking and eased "
                "with rest. Pain like that should be checked by a clinician: it can come from the blood flow or "
                "the nerves in the back, and both can be treated.",
            )
        ]
    return [
        Finding(
            "R05",
            trigger,
            "R05:walking",
            INFO,
            "Once in the last 30 days you logged pain that came on while walking and eased with rest. If it "
            "happens again, CrampTrack will suggest having it checked.",
            counts={"episodes": count},
        )
    ]


def r14_atypical(panel: Panel) -> list[Finding]:
    e = panel.episodes
    recent = _recent(panel, 30)
    long_ones = int((recent & (e.duration > 10)).sum())
    out = []
    if long_ones >= 3:
        out.append(
            _escalate(
                "R14",
                "pat_duration",
                "R14:long",
                "E2",
                f"{long_ones} of your cramps in the last 30 days lasted over 10 minutes. Ordinary cramps usually "
                "last seconds to a few minutes, so a clinician should take a look.",
            )
        )
    if bool((recent & e.flags["spread_beyond_legs"]).any()):
        out.append(
            _escalate(
                "R14",
                "pat_muscle_site",
                "R14:spread",
                "E2",
                "You reported cramps spreading to your arms or body. That is unusual for leg cramps and worth "
                "having checked.",
            )
        )
    return out


def quinine_guardrail(panel: Panel) -> list[Finding]:
    course = _active_course(panel, {DrugClass.QUININE}, panel.today)
    if course is None:
        return []
    return [
        Finding(
            "R06b",
            "rx_quinine",
            f"guardrail:{course.uuid}",
            ESCALATION,
            "You logged quinine or tonic water. Quinine is no longer advised for ordinary cramps because of rare "
            "but serious side effects, such as bleeding problems. Please discuss it with your doctor. Get "
            "medical help today if you notice easy bruising, nosebleeds, blood in urine or stool, or purple or "
            "red spots on the skin.",
            escalation="E2",
        )
    ]


# --- R01 night-time pattern ---------------------------------------------------------------


def r01_night_pattern(panel: Panel) -> Finding:
    e = panel.episodes
    known = e.context != ""
    n = int(known.sum())
    if n < 10:
        return Finding(
            "R01",
            "pat_nocturnal_rest",
            "R01",
            INSUFFICIENT,
            f"When your cramps come on: {n} of 10 cramps with a context logged so far.",
            nights_needed=None,
            counts={"cramps_with_context": n},
        )
    at_rest = int(np.isin(e.context[known], ["woke_from_sleep", "lying_awake"]).sum())
    walking = int((e.context[known] == "walking").sum())
    rls_like = int(((e.hard_knot == 0) & e.flags["urge_to_move"]).sum())
    counts = {"cramps_with_context": n, "at_rest_at_night": at_rest, "walking": walking, "rls_like": rls_like}
    if rls_like >= 2 and rls_like >= n // 4:
        return Finding(
            "R01",
            "rf_rls_mimic",
            "R01",
            ESCALATION,
            f"{rls_like} of your logged episodes had an urge to move and no hard knot in the muscle. That sounds "
            "more like restless legs than cramps, which is a different, treatable condition.",
            escalation="E3",
            counts=counts,
        )
    if walking / n >= 0.3:
        return Finding(
            "R01",
            "pat_daytime_at_work",
            "R01",
            INFO,
            f"{walking} of {n} cramps came on while walking, which is less typical of night cramps. Log whether "
            "the pain eases when you stand still or only when you sit, so CrampTrack can tell you whether to get "
            "it checked.",
            counts=counts,
        )
    if at_rest / n >= 0.7:
        return Finding(
            "R01",
            "pat_nocturnal_rest",
            "R01",
            INFO,
            f"{at_rest} of {n} cramps came at night or at rest: the usual pattern. Night cramps are common, usually "
            "harmless and often have no cause that can be found.",
            tip="A short calf stretch just before bed is a reasonable thing to try.",
            counts=counts,
        )
    return Finding(
        "R01",
        "pat_nocturnal_rest",
        "R01",
        INFO,
        f"{at_rest} of {n} cramps came at night or at rest, and the rest during the day.",
        counts=counts,
    )


# --- exposure rules: R02, R03, R04, R10, R16, R17 ---------------------------------------------


@dataclass
class ExposureRule:
    rule: str
    trigger: str
    key: str
    exposed_words: str  # "nights after harder exercise"
    other_words: str
    exposure: np.ndarray  # 1/0/NaN per logged night
    tip_higher: str = ""
    tip_lower: str = ""
    two_sided: bool = False
    exploratory: bool = False
    lower_words: str = ""  # what a lower rate means, for two-sided rules
    no_pattern_words: str = ""

    def evaluate(self, panel: Panel) -> Finding:
        c = stats.compare(panel.cramps, self.exposure)
        verdict = stats.gate(c, two_sided=self.two_sided)
        numbers = _comparison_words(c, self.exposed_words, self.other_words)
        base = dict(
            rule=self.rule,
            trigger=self.trigger,
            key=self.key,
            status=verdict.status,
            counts=c.counts,
            rate_ratio=c.rate_ratio,
            ci95=(c.ci_low, c.ci_high),
        )
        label = " (exploratory)" if self.exploratory else ""
        if verdict.status == INSUFFICIENT:
            more = (
                f"about {verdict.nights_needed} more logged nights"
                if verdict.nights_needed
                else f"{stats.MIN_CRAMPS} cramps in all"
            )
            return Finding(
                **base,
                nights_needed=verdict.nights_needed,
                message=f"Not enough data yet to compare {self.exposed_words} with {self.other_words}{label}: "
                f"{numbers}. Testing needs at least {stats.MIN_NIGHTS_EACH_SIDE} logged nights of each kind "
                f"and {stats.MIN_CRAMPS} cramps; {more} to go.",
            )
        if verdict.status == HIGHER:
            return Finding(
                **base,
                tip=self.tip_higher,
                message=f"Possible pattern{label}: on {self.exposed_words} you logged cramps "
                f"{_ratio_words(c.rate_ratio)} ({numbers}{_interval_words(c)}). This is an association in your "
                "diary, not proof of a cause.",
            )
        if verdict.status == LOWER:
            return Finding(
                **base,
                tip=self.tip_lower,
                message=f"Possible pattern{label}: fewer cramps on {self.exposed_words} ({numbers}"
                f"{_interval_words(c)}). {self.lower_words}".strip(),
            )
        return Finding(
            **base,
            message=f"No clear difference{label}: {numbers}{_interval_words(c)}. {self.no_pattern_words}".strip(),
        )


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


def fluid_rule_blocked(panel: Panel) -> str:
    p = panel.profile
    if _active_course(panel, DIURETICS, panel.today):
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


def exposure_rules(panel: Panel) -> list[ExposureRule]:
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
    rules = [
        ExposureRule(
            "R02",
            "tr_overuse_exertion",
            "R02",
            "nights after harder exercise",
            "other nights",
            hard,
            tip_higher="Build up training gradually, and stretch your calves after exercise and at bedtime.",
        ),
        ExposureRule(
            "R02",
            "tr_overuse_exertion",
            "R02s",
            "nights after your least active days",
            "other nights",
            _at_most(minutes, low_cut) if low_cut is not None else _no_exposure(panel),
            tip_higher="Regular light activity, such as a daily walk, may help.",
        ),
        ExposureRule(
            "R03",
            "tr_cold_exposure",
            "R03",
            "nights your feet were cold or uncovered",
            "other nights",
            _flag(ctx["feet_cold"]),
            two_sided=True,
            tip_higher="Warm socks or extra bedding are an easy, harmless thing to try. The evidence on cold is "
            "mixed, so let your diary tell you.",
            lower_words="Cold doesn't look like a trigger for you.",
            no_pattern_words="So far cold doesn't look like a trigger for you.",
        ),
        ExposureRule(
            "R04",
            "tr_sweat_electrolyte_loss",
            "R04s",
            "nights after heavy sweating, heat, vomiting or diarrhoea",
            "other nights",
            _any_of(_flag(ctx["heavy_sweating"]), _flag(ctx["vomiting_diarrhoea"])),
            tip_higher="On long, sweaty days eat and salt your food normally; drink to thirst.",
        ),
        ExposureRule(
            "R10",
            "tr_prolonged_position",
            "R10",
            "nights after long sitting or standing days",
            "other nights",
            long_position,
            tip_higher="Break up long sitting or standing: a short walk, ankle circles or calf raises every hour.",
        ),
        ExposureRule(
            "R16",
            "tr_stress",
            "R16",
            "nights after high-stress evenings (7 or more out of 10)",
            "other nights",
            _at_least(ctx["stress"], 7),
            exploratory=True,
            tip_higher="A relaxing wind-down routine before bed can't hurt.",
        ),
    ]
    blocked = fluid_rule_blocked(panel)
    if not blocked:
        rules.insert(
            3,
            ExposureRule(
                "R04",
                "tr_dehydration",
                "R04",
                "nights after your lowest-fluid days",
                "other nights",
                _at_most(ctx["fluids_cups"], fluid_cut) if fluid_cut is not None else _no_exposure(panel),
                tip_higher="Drinking to thirst, with a little extra in heat or exercise, is reasonable. More isn't "
                "better: forcing down large amounts doesn't prevent cramps.",
            ),
        )
    trial = stretch_trial_nights(panel)
    if trial is not None:
        rules.append(
            ExposureRule(
                "R17",
                "rx_stretch_strength_program",
                "R17",
                "stretch nights",
                "no-stretch nights",
                trial,
                two_sided=True,
                lower_words="In your own trial, nights with the bedtime stretch had fewer cramps.",
                no_pattern_words="In your own trial the bedtime stretch made no clear difference.",
            )
        )
    return rules


def fluid_rule_note(panel: Panel) -> Finding | None:
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


# --- R06 medication starts ---------------------------------------------------------------------

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
    if (note := fluid_rule_note(panel)) is not None:
        out.append(note)
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
    numbers = _comparison_words(c, "nights after", "nights before")
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
            message=f"Your cramps increased after you {event} {course.name} ({numbers}{_interval_words(c)}). "
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
                f"Before and after {course.name}: {_comparison_words(c, 'nights after', 'nights before')}. Cramps "
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


# --- R07 trend and burden -------------------------------------------------------------------------


def r07_trend_and_burden(panel: Panel) -> list[Finding]:
    out = []
    n = panel.logged_nights
    if n < 56:
        out.append(
            Finding(
                "R07",
                "pat_frequent_severe",
                "R07",
                INSUFFICIENT,
                nights_needed=56 - n,
                message=f"Trend: comparing your last 4 logged weeks with the 4 before needs 56 logged nights; "
                f"you have {n}.",
            )
        )
    else:
        exposure = np.full(n, np.nan)
        exposure[-28:] = 1.0
        exposure[-56:-28] = 0.0
        c = stats.compare(panel.cramps, exposure)
        verdict = stats.gate(c, two_sided=True)
        numbers = _comparison_words(c, "recent nights", "nights in the 4 weeks before")
        base = dict(
            rule="R07",
            trigger="pat_frequent_severe",
            key="R07",
            counts=c.counts,
            rate_ratio=c.rate_ratio,
            ci95=(c.ci_low, c.ci_high),
        )
        if verdict.status == HIGHER:
            out.append(
                Finding(
                    **base,
                    status=ESCALATION,
                    escalation="E2",
                    message=f"Your cramps are becoming more frequent ({numbers}{_interval_words(c)}). That is worth "
                    "discussing with a clinician, who can look for treatable causes and review your medicines. "
                    f"{LEVEL_ACTION['E2']}",
                )
            )
        elif verdict.status == LOWER:
            out.append(Finding(**base, status=INFO, message=f"Fewer cramps lately: {numbers}."))
        else:
            out.append(Finding(**base, status=verdict.status, message=f"Trend: {numbers}; no clear change."))
    burden = _burden(panel)
    if burden is not None:
        out.append(burden)
    return out


def _burden(panel: Panel) -> Finding | None:
    """>= 4 cramp nights a week for 4 weeks running, with sleep disturbed (median >= 5/10)."""
    last = panel.today - timedelta(days=1)
    weeks = [panel.window(last - timedelta(days=7 * w + 6), last - timedelta(days=7 * w)) for w in range(4)]
    if not all(int((panel.cramps[week] > 0).sum()) >= 4 for week in weeks):
        return None
    month = panel.window(last - timedelta(days=27), last)
    disturbance = panel.context["sleep_disturbance"][month]
    disturbance = disturbance[~np.isnan(disturbance)]
    if disturbance.size < 7 or float(np.median(disturbance)) < 5:
        return None
    stretched = panel.context["stretched_before_bed"][month]
    self_care = int(np.nansum(stretched == 1))
    if self_care < 7:
        return Finding(
            "R07",
            "pat_sleep_disruption",
            "R07:burden",
            INFO,
            "Cramps have disturbed your sleep on at least 4 nights a week for 4 weeks. Try a calf stretch every "
            "night before bed for 2 weeks and log it; if the cramps still break your sleep, see a clinician.",
            tip="Stretch your calves for a few minutes just before lights-out.",
        )
    return Finding(
        "R07",
        "pat_sleep_disruption",
        "R07:burden",
        ESCALATION,
        escalation="E2",
        message="Cramps have disturbed your sleep on at least 4 nights a week for 4 weeks, despite bedtime "
        f"stretching. A clinician can look for treatable causes and discuss options. {LEVEL_ACTION['E2']}",
    )


# --- R08 time of night, R09 side and site ------------------------------------------------------------

DEFAULT_BED, DEFAULT_WAKE = 23.0, 7.0


def r08_time_of_night(panel: Panel) -> Finding:
    e = panel.episodes
    index = np.searchsorted(panel.nights, e.night)
    index = np.clip(index, 0, max(panel.logged_nights - 1, 0))
    bed = panel.bedtime[index] if panel.logged_nights else np.full(len(e), np.nan)
    wake = panel.wake_time[index] if panel.logged_nights else np.full(len(e), np.nan)
    bed = np.where(np.isnan(bed), DEFAULT_BED, bed)
    wake = np.where(np.isnan(wake), DEFAULT_WAKE, wake)
    in_bed_hours = (wake - bed) % 24
    since_bed = (e.local_hour - bed) % 24
    timed = ~e.time_approximate & (since_bed < in_bed_hours) & (in_bed_hours > 0)
    thirds = np.floor(3 * since_bed[timed] / in_bed_hours[timed]).astype(int)
    observed = np.bincount(thirds, minlength=3)[:3]
    n = int(observed.sum())
    counts = {"early": int(observed[0]), "middle": int(observed[1]), "late": int(observed[2])}
    if n < 15:
        return Finding(
            "R08",
            "pat_nocturnal_rest",
            "R08",
            INSUFFICIENT,
            counts=counts,
            message=f"Time of night: {n} of the 15 cramps with an exact time in bed needed so far.",
        )
    p_value = float(scipy_stats.chisquare(observed).pvalue)
    top = int(np.argmax(observed))
    names = ("first", "middle", "last")
    words = (
        f"{counts['early']} in the first third of the night, {counts['middle']} in the middle, "
        f"{counts['late']} in the last"
    )
    if p_value < 0.01 and observed[top] / n >= 0.5:
        tip = (
            "Stretch right before lights-out."
            if top == 0
            else "Keep the top sheet loose so your feet aren't pushed into a pointed position, and stretch gently if "
            "you wake."
        )
        return Finding(
            "R08",
            "pat_nocturnal_rest",
            "R08",
            INFO,
            counts=counts,
            tip=tip,
            message=f"Your cramps cluster in the {names[top]} third of the night ({words}). Exploratory: there is "
            "little research on timing within the night.",
        )
    return Finding(
        "R08",
        "pat_nocturnal_rest",
        "R08",
        NO_PATTERN,
        counts=counts,
        message=f"Time of night: {words}; no clear cluster.",
    )


def r09_side_and_site(panel: Panel) -> list[Finding]:
    e = panel.episodes
    out = []
    one_sided = np.isin(e.side, ["left", "right"])
    n = int(one_sided.sum())
    left = int((e.side == "left").sum())
    counts = {"left": left, "right": n - left, "both": int((e.side == "both").sum())}
    if n < 10:
        out.append(
            Finding(
                "R09",
                "pat_side_asymmetry",
                "R09",
                INSUFFICIENT,
                counts=counts,
                message=f"Side: {n} of the 10 one-sided cramps needed so far.",
            )
        )
    else:
        top_side = "left" if left >= n - left else "right"
        k = max(left, n - left)
        p_value = float(scipy_stats.binomtest(k, n, 0.5).pvalue)
        if k / n >= 0.8 and p_value < 0.01:
            on_side = one_sided & (e.side == top_side)
            nerve = bool((on_side & (e.flags["back_pain_radiating"] | e.flags["numbness_tingling"])).any())
            if nerve:
                out.append(
                    _escalate(
                        "R09",
                        "rf_lumbar_disc_radiculopathy",
                        "R09",
                        "E2",
                        f"{k} of {n} one-sided cramps were on the {top_side}, together with back pain or numbness. "
                        "That combination can come from a trapped nerve in the back, which a clinician can check.",
                    )
                )
            else:
                out.append(
                    Finding(
                        "R09",
                        "pat_side_asymmetry",
                        "R09",
                        INFO,
                        counts=counts,
                        message=f"{k} of {n} one-sided cramps were on the {top_side}. Many people cramp more on "
                        "one side; on its own this is not a concern.",
                    )
                )
        else:
            out.append(
                Finding(
                    "R09",
                    "pat_side_asymmetry",
                    "R09",
                    NO_PATTERN,
                    counts=counts,
                    message=f"Side: {left} left, {n - left} right; no clear difference.",
                )
            )
    total = len(e)
    thigh = int(np.isin(e.muscle, ["hamstring", "quadriceps"]).sum())
    if total >= 10 and thigh / total >= 0.5:
        out.append(
            _escalate(
                "R09",
                "pat_muscle_site",
                "R09:thigh",
                "E3",
                f"{thigh} of {total} cramps were in the thigh. Night cramps are usually in the calf or foot, so this "
                "is worth mentioning.",
            )
        )
    return out


# --- R11 pregnancy, R15 age gate --------------------------------------------------------------------


def r11_pregnancy(panel: Panel) -> Finding:
    due = panel.profile.get("due_date")
    counts = {}
    if due:
        weeks = 40 - (np.datetime64(due) - panel.nights).astype(int) / 7
        for name, low, high in (("first", -99, 14), ("second", 14, 28), ("third", 28, 99)):
            mask = (weeks >= low) & (weeks < high)
            counts[name] = {"cramps": int(panel.cramps[mask].sum()), "nights": int(mask.sum())}
    by_trimester = "; ".join(
        f"{name} trimester: {v['cramps']} cramps in {v['nights']} nights" for name, v in counts.items() if v["nights"]
    )
    return Finding(
        "R11",
        "rf_pregnancy",
        "R11",
        INFO,
        counts=counts,
        message="Leg cramps are common in later pregnancy. " + (f"{by_trimester}." if by_trimester else ""),
        tip="Stretch your calves before bed; warmth or gentle massage can help during a cramp, but not on a calf "
        "that is swollen, red or warm. Ask your midwife before taking any supplement.",
    )


def r15_age_gate(panel: Panel) -> Finding | None:
    born = panel.profile.get("birth_year")
    if not born or panel.today.year - born >= 18:
        return None
    return Finding(
        "R15",
        "rf_growing_pains",
        "R15",
        INFO,
        "CrampTrack's analysis is made for adults, so it doesn't analyse this diary. Leg pains in children and "
        "teenagers are often harmless, but see a clinician if the pain is on one side only, comes with a limp, "
        "happens in the day or morning, or a joint is swollen; get help today if there is also a fever.",
    )
