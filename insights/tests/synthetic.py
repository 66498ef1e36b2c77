"""Seeded synthetic diaries with known (planted) effects, as Panels or as database rows."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from insights.panel import CONTEXT_FIELDS, EPISODE_FLAGS, Course, build_panel

PROFILE = {
    "timezone": "Europe/London",
    "birth_year": 1955,
    "pregnant": False,
    "due_date": None,
    "has_diabetes": False,
    "has_thyroid_disease": False,
    "has_pad": False,
    "has_lumbar_stenosis_or_disc": False,
    "has_liver_disease": False,
    "has_kidney_disease": False,
    "has_heart_failure": False,
    "has_neurological_disease": False,
    "on_fluid_restriction": False,
    "stretch_trial_started_on": None,
}


@dataclass
class Plan:
    nights: int = 120  # checked-in nights
    base_rate: float = 0.6  # cramps per night
    clustering_k: float | None = None  # negative-binomial shape; None = Poisson
    effects: dict[str, float] = field(default_factory=dict)  # exposure name -> rate ratio
    end: date = date(2026, 11, 1)
    zone: str = "Europe/London"
    missing_share: float = 0.0  # share of calendar nights with no check-in at all
    statin_start: int | None = None  # calendar night index (0 = first) on which a statin course starts
    statin_ratio: float = 1.0  # rate ratio on the nights after it


def simulate(plan: Plan, seed: int):
    """Return (checkin rows, episode rows) in the shapes insights.panel.build_panel takes."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(plan.zone)
    days: list[date] = []
    day = plan.end
    while len(days) < plan.nights:
        day -= timedelta(days=1)
        if rng.random() >= plan.missing_share:
            days.append(day)
    days.reverse()
    statin_from = days[0] + timedelta(days=plan.statin_start) if plan.statin_start is not None else None

    checkins, episodes = [], []
    for day in days:
        context = {
            "exercise_minutes": float(rng.choice([0, 20, 30, 45, 75, 90])),
            "feet_cold": bool(rng.random() < 0.4),
            "fluids_cups": float(rng.integers(3, 11)),
            "heavy_sweating": bool(rng.random() < 0.3),
            "hours_sitting": float(rng.integers(2, 11)),
            "hours_standing": float(rng.integers(1, 7)),
            "stress": float(rng.integers(0, 11)),
            "sleep_disturbance": float(rng.integers(0, 6)),
            "sleep_hours": 7.0,
        }
        exposures = {
            "exercise": context["exercise_minutes"] >= 60,
            "cold": context["feet_cold"],
            "stress": context["stress"] >= 7,
            "low_fluids": context["fluids_cups"] <= 4,  # the lowest quartile of 3..10 cups
        }
        rate = plan.base_rate
        for name, ratio in plan.effects.items():
            if exposures.get(name):
                rate *= ratio
        if statin_from is not None and day > statin_from:
            rate *= plan.statin_ratio
        if plan.clustering_k:
            rate = rng.gamma(plan.clustering_k, rate / plan.clustering_k)
        n = int(rng.poisson(rate))
        values = [context.get(name) for name in CONTEXT_FIELDS]
        checkins.append((day, n == 0, time(23, 0), time(7, 0), *values))
        for _ in range(n):
            local = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone) + timedelta(
                minutes=int(rng.integers(0, 7 * 60))
            )
            side = str(rng.choice(["left", "right", "both"]))
            episodes.append(episode_row(day, local.astimezone(UTC), side=side, zone=plan.zone))
    return checkins, episodes


def episode_row(
    night, started_at, *, side="left", muscle="calf", context="woke_from_sleep", duration=2.0, zone="UTC", **flags
):
    flag_values = [bool(flags.get(name, False)) for name in EPISODE_FLAGS]
    relief = flags.get("walking_pain_relief", "")
    return (night, started_at, False, muscle, side, context, duration, 5, True, relief, *flag_values, zone)


def statin_course(plan: Plan, seed: int) -> list[Course]:
    """The statin course a plan with statin_start describes (its first calendar night is seeded like simulate)."""
    if plan.statin_start is None:
        return []
    checkins, _ = simulate(plan, seed)
    started = checkins[0][0] + timedelta(days=plan.statin_start)
    return [Course(f"statin-{seed}", "Simvastatin", "statin", started, None)]


def synthetic_panel(plan: Plan, seed: int, profile: dict | None = None, courses=None, today=None):
    checkins, episodes = simulate(plan, seed)
    courses = courses if courses is not None else statin_course(plan, seed)
    counts: dict = {}
    for row in episodes:
        counts[row[0]] = counts.get(row[0], 0) + 1
    return build_panel(
        1,
        ZoneInfo(plan.zone),
        today or plan.end,
        {**PROFILE, "timezone": plan.zone, **(profile or {})},
        counts,
        checkins,
        episodes,
        courses or [],
    )


def daily_looks(plan: Plan, seed: int, first: int = 28):
    """Replay a diary's daily looks: (logged nights so far, findings) after each logged night from `first` on."""
    from insights.analysis import analyse
    from insights.panel import as_of

    panel = synthetic_panel(plan, seed)
    for index in range(first - 1, panel.logged_nights):
        night = panel.nights[index].astype(object)
        yield index + 1, analyse(as_of(panel, night))
