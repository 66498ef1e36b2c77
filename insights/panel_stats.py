"""DiaryStats of one diary from its Panel, with NumPy."""

from datetime import timedelta

import numpy as np

from . import stats
from .diary_stats import RECENT_DAYS, RED_FLAG_DAYS, RED_FLAGS, TREND_NIGHTS, Burden, DiaryStats
from .findings import recent
from .panel import Panel
from .rules.exposures import exposures
from .rules.medications import medication_changes, supplement_changes

DEFAULT_BED, DEFAULT_WAKE = 23.0, 7.0  # when the check-in has no bedtime or wake time (R08)
TRIMESTERS = (("first", -99, 14), ("second", 14, 28), ("third", 28, 99))


def from_panel(panel: Panel) -> DiaryStats:
    e = panel.episodes
    in_28, in_30 = recent(panel, RED_FLAG_DAYS), recent(panel, RECENT_DAYS)
    walking_pain = (e.walking_pain_relief != "") & in_30
    known = e.context != ""
    one_sided = np.isin(e.side, ["left", "right"])
    nerve = e.flags["back_pain_radiating"] | e.flags["numbness_tingling"]
    n = panel.logged_nights
    trend = None
    if n >= 2 * TREND_NIGHTS:
        exposure = np.full(n, np.nan)
        exposure[-TREND_NIGHTS:] = 1.0
        exposure[-2 * TREND_NIGHTS : -TREND_NIGHTS] = 0.0
        trend = stats.compare(panel.cramps, exposure)
    return DiaryStats(
        user_id=panel.user_id,
        today=panel.today,
        profile=panel.profile,
        courses=panel.courses,
        logged_nights=n,
        red_flags=frozenset(name for name in RED_FLAGS if (e.flags[name] & in_28).any()),
        walking_pain_30=int(walking_pain.sum()),
        walking_pain_sitting_30=int((walking_pain & (e.walking_pain_relief == "sitting_or_bending")).sum()),
        long_30=int((in_30 & (e.duration > 10)).sum()),
        spread_30=bool((in_30 & e.flags["spread_beyond_legs"]).any()),
        context_n=int(known.sum()),
        at_rest=int(np.isin(e.context[known], ["woke_from_sleep", "lying_awake"]).sum()),
        walking=int((e.context[known] == "walking").sum()),
        rls_like=int(((e.hard_knot == 0) & e.flags["urge_to_move"]).sum()),
        exposures={key: stats.compare(panel.cramps, x) for key, x in exposures(panel).items()},
        trend=trend,
        burden=_burden(panel),
        thirds=_thirds(panel),
        episodes=len(e),
        left=int((e.side == "left").sum()),
        one_sided=int(one_sided.sum()),
        both=int((e.side == "both").sum()),
        nerve_left=bool((nerve & (e.side == "left")).any()),
        nerve_right=bool((nerve & (e.side == "right")).any()),
        thigh=int(np.isin(e.muscle, ["hamstring", "quadriceps"]).sum()),
        trimesters=_trimesters(panel),
        changes=[_change(panel, change) for change in medication_changes(panel.courses)],
        supplements=[_change(panel, change)[0] for change in supplement_changes(panel.courses)],
    )


def _burden(panel: Panel) -> Burden:
    last = panel.today - timedelta(days=1)
    weeks = [panel.window(last - timedelta(days=7 * w + 6), last - timedelta(days=7 * w)) for w in range(4)]
    if not all(int((panel.cramps[week] > 0).sum()) >= 4 for week in weeks):
        return Burden(False, 0, np.nan, 0)  # the rest only matters for a busy month
    month = panel.window(last - timedelta(days=27), last)
    disturbance = panel.context["sleep_disturbance"][month]
    disturbance = disturbance[~np.isnan(disturbance)]
    return Burden(
        every_week_4_cramp_nights=True,
        disturbance_nights=int(disturbance.size),
        disturbance_median=float(np.median(disturbance)) if disturbance.size else np.nan,
        stretched_nights=int(np.nansum(panel.context["stretched_before_bed"][month] == 1)),
    )


def _thirds(panel: Panel) -> tuple[int, int, int]:
    """Timed cramps in the first, middle and last third of the time in bed that night."""
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
    return int(observed[0]), int(observed[1]), int(observed[2])


def _trimesters(panel: Panel) -> dict:
    due = panel.profile.get("due_date")
    counts = {}
    if due:
        weeks = 40 - (np.datetime64(due) - panel.nights).astype(int) / 7
        for name, low, high in TRIMESTERS:
            mask = (weeks >= low) & (weeks < high)
            counts[name] = {"cramps": int(panel.cramps[mask].sum()), "nights": int(mask.sum())}
    return counts


def _change(panel: Panel, change) -> tuple[stats.Comparison, int]:
    pre, post = panel.window(*change.pre), panel.window(*change.post)
    c = stats.compare(panel.cramps, np.where(post, 1.0, np.where(pre, 0.0, np.nan)))
    return c, int((panel.cramps[panel.window(*change.early)] > 0).sum())
