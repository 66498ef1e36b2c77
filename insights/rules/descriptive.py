"""Descriptive rules: when cramps come (R01, R08), trend and burden (R07), side and site (R09),
pregnancy (R11) and the age gate (R15)."""

from typing import Any

import numpy as np

from .. import stats
from ..diary_stats import TREND_NIGHTS, Burden, DiaryStats
from ..findings import (
    ESCALATION,
    INFO,
    INSUFFICIENT,
    LEVEL_ACTION,
    NO_PATTERN,
    Finding,
    comparison_words,
    escalate,
    interval_words,
)


def r01_night_pattern(d: DiaryStats) -> Finding:
    n, at_rest, walking, rls_like = d.context_n, d.at_rest, d.walking, d.rls_like
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


# R07's share of the diary's budget for statistical escalations; R06 has as much per medicine change, and a
# fifth is kept back because the dispersion-deflated exact tests run slightly over their level (bench/honesty.py).
ALPHA_TREND = 0.4 * stats.ALPHA_ESCALATION


def r07_trend_and_burden(d: DiaryStats) -> list[Finding]:
    out = [_trend(d)]
    burden = _burden(d.burden)
    if burden is not None:
        out.append(burden)
    return out


def _trend(d: DiaryStats) -> Finding:
    """The latest block of 28 logged nights against all nights before it, one exact test per completed block,
    each at its share of ALPHA_TREND (stats.block_alpha), so a year of daily looks keeps the error budget."""
    n = d.logged_nights
    base: dict[str, Any] = dict(rule="R07", trigger="pat_frequent_severe", key="R07")
    next_look = TREND_NIGHTS - n % TREND_NIGHTS
    if d.trend is None:
        return Finding(
            **base,
            status=INSUFFICIENT,
            nights_needed=2 * TREND_NIGHTS - n,
            message=f"Trend: comparing your latest {TREND_NIGHTS} logged nights with the ones before needs "
            f"{2 * TREND_NIGHTS} logged nights; you have {n}.",
        )
    look, c = d.trend
    numbers = comparison_words(c, "recent nights", "nights before")
    base.update(counts=c.counts, rate_ratio=c.rate_ratio)
    if c.cramps < stats.MIN_CRAMPS:
        return Finding(
            **base,
            status=INSUFFICIENT,
            nights_needed=next_look,
            message=f"Trend: too few cramps to tell a change yet ({numbers}); it needs {stats.MIN_CRAMPS}. "
            f"CrampTrack compares again after {next_look} more logged nights.",
        )
    interval = stats.exact_interval(c, 2 * stats.block_alpha(ALPHA_TREND, look))
    base["interval"] = interval
    numbers += interval_words(interval)
    rr = c.rate_ratio
    if interval[0] > 1 and (rr is None or rr >= stats.MIN_RATE_RATIO):
        return Finding(
            **base,
            status=ESCALATION,
            escalation="E2",
            message=f"Your cramps are becoming more frequent ({numbers}). That is worth discussing with a "
            f"clinician, who can look for treatable causes and review your medicines. {LEVEL_ACTION['E2']}",
        )
    if interval[1] is not None and interval[1] < 1:
        return Finding(**base, status=INFO, message=f"Fewer cramps lately: {numbers}.")
    return Finding(
        **base,
        status=NO_PATTERN,
        message=f"Trend: {numbers}; no clear change. Compared again after {next_look} more logged nights.",
    )


def _burden(b: Burden) -> Finding | None:
    """>= 4 cramp nights a week for 4 weeks running, with sleep disturbed (median >= 5/10)."""
    if not b.every_week_4_cramp_nights:
        return None
    if b.disturbance_nights < 7 or not b.disturbance_median >= 5:
        return None
    self_care = b.stretched_nights
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


# R08 and R09 are descriptive, but a cluster comes with a tip: each is tested at scheduled looks (15, 30, 60 ...
# nights with timed cramps; 10, 20, 40 ... with one-sided ones) at its share of ALPHA_DESCRIPTIVE.
ALPHA_DESCRIPTIVE = 0.01


def r08_time_of_night(d: DiaryStats) -> Finding:
    votes = d.thirds
    base: dict[str, Any] = dict(rule="R08", trigger="pat_nocturnal_rest", key="R08")
    schedule = stats.doubling_look(len(votes), 15)
    if schedule is None:
        return Finding(
            **base,
            status=INSUFFICIENT,
            counts={"nights": len(votes)},
            message=f"Time of night: cramps with an exact time on {len(votes)} of the 15 nights needed so far.",
        )
    look, nights = schedule
    observed = votes[:nights].sum(axis=0)
    counts = {"nights": nights, "early": round(observed[0], 1), "middle": round(observed[1], 1)}
    counts["late"] = round(observed[2], 1)
    top = int(np.argmax(observed))
    names = ("first", "middle", "last")
    words = (
        f"of your first {nights} nights with a timed cramp, {_n(observed[0])} mostly in the first third of the "
        f"night, {_n(observed[1])} in the middle, {_n(observed[2])} in the last; a night counts once however many "
        "cramps it had"
    )
    alpha = stats.block_alpha(ALPHA_DESCRIPTIVE, look)
    if observed[top] / nights >= 0.5 and stats.chi_square_p(observed) < alpha:
        tip = (
            "Stretch right before lights-out."
            if top == 0
            else "Keep the top sheet loose so your feet aren't pushed into a pointed position, and stretch gently if "
            "you wake."
        )
        return Finding(
            **base,
            status=INFO,
            counts=counts,
            tip=tip,
            message=f"Your cramps cluster in the {names[top]} third of the night ({words}). Exploratory: there is "
            "little research on timing within the night.",
        )
    return Finding(**base, status=NO_PATTERN, counts=counts, message=f"Time of night: no clear cluster ({words}).")


def _n(share: float) -> str:
    return f"{share:.0f}" if abs(share - round(share)) < 0.05 else f"{share:.1f}"


def r09_side_and_site(d: DiaryStats) -> list[Finding]:
    out = []
    n, left = d.one_sided, d.left
    counts = {"left": left, "right": n - left, "both": d.both}
    schedule = stats.doubling_look(len(d.sides), 10)
    if schedule is None:
        out.append(
            Finding(
                "R09",
                "pat_side_asymmetry",
                "R09",
                INSUFFICIENT,
                counts=counts,
                message=f"Side: one-sided cramps on {len(d.sides)} of the 10 nights needed so far.",
            )
        )
    else:
        look, nights = schedule
        left_nights = float(d.sides[:nights, 0].sum())
        top_side = "left" if left_nights >= nights - left_nights else "right"
        k = round(max(left_nights, nights - left_nights))
        alpha = stats.block_alpha(ALPHA_DESCRIPTIVE, look)
        if k / nights >= 0.8 and stats.binomial_half_p(k, nights) < alpha:
            nerve = d.nerve_left if top_side == "left" else d.nerve_right
            if nerve:
                out.append(
                    escalate(
                        "R09",
                        "rf_lumbar_disc_radiculopathy",
                        "R09",
                        "E2",
                        f"On {k} of {nights} nights with one-sided cramps they were on the {top_side}, together with "
                        "back pain or numbness. That combination can come from a trapped nerve in the back, which a "
                        "clinician can check.",
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
                        message=f"On {k} of {nights} nights with one-sided cramps they were on the {top_side}. Many "
                        "people cramp more on one side; on its own this is not a concern.",
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
    total, thigh = d.episodes, d.thigh
    if total >= 10 and thigh / total >= 0.5:
        out.append(
            escalate(
                "R09",
                "pat_muscle_site",
                "R09:thigh",
                "E3",
                f"{thigh} of {total} cramps were in the thigh. Night cramps are usually in the calf or foot, so this "
                "is worth mentioning.",
            )
        )
    return out


def r11_pregnancy(d: DiaryStats) -> Finding:
    counts = d.trimesters
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


def r15_age_gate(d: DiaryStats) -> Finding | None:
    born = d.profile.get("birth_year")
    if not born or d.today.year - born >= 18:
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
