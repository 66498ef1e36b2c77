"""DiaryStats of one diary from its Panel, with NumPy."""

from datetime import timedelta

import numpy as np

from . import stats
from .diary_stats import (
    FLAG_COUNTS,
    FLAGS,
    LONG_CRAMPS,
    RECENT_DAYS,
    TREND_NIGHTS,
    WALKING_PAIN,
    Burden,
    DiaryStats,
    Reported,
)
from .findings import recent
from .panel import Panel
from .rules.exposures import exposures
from .rules.medications import medication_changes, supplement_changes

DEFAULT_BED, DEFAULT_WAKE = 23.0, 7.0  # when the check-in has no bedtime or wake time (R08)
TRIMESTERS = (("first", -99, 14), ("second", 14, 28), ("third", 28, 99))


def from_panel(panel: Panel) -> DiaryStats:
    e = panel.episodes
    in_30 = recent(panel, RECENT_DAYS)
    walking_pain = (e.walking_pain_relief != "") & unacknowledged(panel, WALKING_PAIN)
    known = e.context != ""
    one_sided = np.isin(e.side, ["left", "right"])
    nerve = e.flags["back_pain_radiating"] | e.flags["numbness_tingling"]
    n = panel.logged_nights
    return DiaryStats(
        user_id=panel.user_id,
        today=panel.today,
        profile=panel.profile,
        courses=panel.courses,
        logged_nights=n,
        red_flags=reported_flags(panel),
        walking_pain=int(walking_pain.sum()),
        walking_pain_30=int((walking_pain & in_30).sum()),
        walking_pain_sitting=int((walking_pain & (e.walking_pain_relief == "sitting_or_bending")).sum()),
        context_n=int(known.sum()),
        at_rest=int(np.isin(e.context[known], ["woke_from_sleep", "lying_awake"]).sum()),
        walking=int((e.context[known] == "walking").sum()),
        rls_like=int(((e.hard_knot == 0) & e.flags["urge_to_move"]).sum()),
        exposures={key: stats.compare(panel.cramps, x) for key, x in exposures(panel).items()},
        trend=_trend(panel),
        burden=_burden(panel),
        thirds=_thirds(panel),
        sides=_sides(panel),
        episodes=len(e),
        left=int((e.side == "left").sum()),
        one_sided=int(one_sided.sum()),
        both=int((e.side == "both").sum()),
        nerve_left=bool((nerve & (e.side == "left")).any()),
        nerve_right=bool((nerve & (e.side == "right")).any()),
        thigh=int(np.isin(e.muscle, ["hamstring", "quadriceps"]).sum()),
        trimesters=_trimesters(panel),
        changes=[_looks(panel, change) for change in medication_changes(panel.courses)],
        supplements=[_before_after(panel, change.pre, change.post) for change in supplement_changes(panel.courses)],
    )


def reported_flags(panel: Panel) -> dict[str, Reported]:
    """The red flags reported since their last acknowledgement, by name; a count flag needs its count
    of reports within RECENT_DAYS (after the acknowledgement)."""
    e = panel.episodes
    counted = {WALKING_PAIN: e.walking_pain_relief != "", LONG_CRAMPS: e.duration > 10}
    out = {}
    for name in FLAGS:
        mask = (counted[name] if name in counted else e.flags[name]) & unacknowledged(panel, name)
        if not mask.any():
            continue
        days = np.sort(e.started_on[mask])
        needed = FLAG_COUNTS.get(name, 1)
        if needed > 1 and not ((days[needed - 1 :] - days[: 1 - needed]).astype(int) < RECENT_DAYS).any():
            continue
        out[name] = Reported(days[0].item(), days[-1].item(), int(mask.sum()), int(e.started_us[mask].max()))
    return out


def unacknowledged(panel: Panel, name: str) -> np.ndarray:
    """Episodes that start after the latest report the person has acknowledged for this flag."""
    since = panel.acknowledged.get(name)
    return np.ones(len(panel.episodes), dtype=bool) if since is None else panel.episodes.started_us > since


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


def _thirds(panel: Panel) -> np.ndarray:
    """R08: per night with timed cramps (in night order), the share of its cramps in the first, middle and last
    third of the time in bed. A night votes once, however many cramps it had: cramps cluster within a night."""
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
    thirds = np.minimum(np.floor(3 * since_bed[timed] / in_bed_hours[timed]).astype(int), 2)
    return _votes_per_night(e.night[timed], thirds, 3)


def _sides(panel: Panel) -> np.ndarray:
    """R09: per night with one-sided cramps (in night order), the share of them on the left and on the right."""
    e = panel.episodes
    one_sided = np.isin(e.side, ["left", "right"])
    return _votes_per_night(e.night[one_sided], (e.side[one_sided] == "right").astype(int), 2)


def _votes_per_night(nights: np.ndarray, category: np.ndarray, categories: int) -> np.ndarray:
    """Rows of category shares, one row per distinct night, summing to 1."""
    if not nights.size:
        return np.zeros((0, categories))
    _, row = np.unique(nights, return_inverse=True)
    counts = np.zeros((row.max() + 1, categories))
    np.add.at(counts, (row, category), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def _trimesters(panel: Panel) -> dict:
    due = panel.profile.get("due_date")
    counts = {}
    if due:
        weeks = 40 + (panel.nights - np.datetime64(due)).astype(int) / 7  # 40 weeks at the due date
        for name, low, high in TRIMESTERS:
            mask = (weeks >= low) & (weeks < high)
            counts[name] = {"cramps": int(panel.cramps[mask].sum()), "nights": int(mask.sum())}
    return counts


def _before_after(panel: Panel, pre: tuple, post: tuple) -> stats.Comparison:
    before, after = panel.window(*pre), panel.window(*post)
    return stats.compare(panel.cramps, np.where(after, 1.0, np.where(before, 0.0, np.nan)))


def _looks(panel: Panel, change) -> list[tuple[int, stats.Comparison]]:
    """R06: the before/after comparison at each scheduled look whose last night has passed."""
    days_since = (panel.today - change.start).days
    return [(day, _before_after(panel, change.pre, change.post_until(day))) for day in change.looks if day < days_since]


def _trend(panel: Panel) -> tuple[int, stats.Comparison] | None:
    """R07: the latest complete block of TREND_NIGHTS logged nights against every logged night before it.

    A look happens once per completed block (look 1 when the second block completes), never on a sliding window.
    """
    blocks = panel.logged_nights // TREND_NIGHTS
    if blocks < 2:
        return None
    exposure = np.full(panel.logged_nights, np.nan)
    exposure[: (blocks - 1) * TREND_NIGHTS] = 0.0
    exposure[(blocks - 1) * TREND_NIGHTS : blocks * TREND_NIGHTS] = 1.0
    return blocks - 1, stats.compare(panel.cramps, exposure)
