"""Seeded synthetic diaries with known (planted) effects, as Panels or as database rows."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from insights.panel import CONTEXT_FIELDS, EPISODE_FLAGS, build_panel

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


def simulate(plan: Plan, seed: int):
    """Return (checkin rows, episode rows) in the shapes insights.panel.build_panel takes."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(plan.zone)
    days = []
    day = plan.end
    while len(days) < plan.nights:
        day -= timedelta(days=1)
        if rng.random() >= plan.missing_share:
            days.append(day)
    days.reverse()

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
        }
        rate = plan.base_rate
        for name, ratio in plan.effects.items():
            if exposures.get(name):
                rate *= ratio
        if plan.clustering_k:
            rate = rng.gamma(plan.clustering_k, rate / plan.clustering_k)
        n = int(rng.poisson(rate))
        values = [context.get(name) for name in CONTEXT_FIELDS]
        checkins.append((day, n == 0, time(23, 0), time(7, 0), *values))
        for _ in range(n):
            local = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone) + timedelta(
                minutes=int(rng.integers(0, 7 * 60))
            )
            episodes.append(episode_row(day, local.astimezone(UTC), side=str(rng.choice(["left", "right", "both"]))))
    return checkins, episodes


def episode_row(night, started_at, *, side="left", muscle="calf", context="woke_from_sleep", duration=2.0, **flags):
    flag_values = [bool(flags.get(name, False)) for name in EPISODE_FLAGS]
    relief = flags.get("walking_pain_relief", "")
    return (night, started_at, False, muscle, side, context, duration, 5, True, relief, *flag_values)


def synthetic_panel(plan: Plan, seed: int, profile: dict | None = None, courses=None, today=None):
    checkins, episodes = simulate(plan, seed)
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


# --- Varied diaries in the database -------------------------------------------------------------
# Every rule and status of the analysis, from seeded random diaries: gaps, unanswered check-ins, context
# recorded only sometimes, episode-only nights, far zones and DST, red flags, courses and dose increases,
# pregnancy, teenagers and the stretch trial. Used to check the chunked SQL path against the per-diary one.

VARIED_ZONES = ("Europe/London", "Pacific/Kiritimati", "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata")
DRUG_CHOICES = ("statin", "magnesium", "loop_diuretic", "quinine", "thiazide_diuretic", "massage_therapy", "naproxen")


@dataclass
class VariedDiary:
    profile: dict
    checkins: list[dict]
    episodes: list[dict]
    courses: list[dict]  # name, drug_class, started_on, stopped_on, increases


def varied_diary(seed: int, end: date) -> VariedDiary:
    rng = np.random.default_rng(seed)
    zone_name = VARIED_ZONES[seed % len(VARIED_ZONES)]
    zone = ZoneInfo(zone_name)
    n_nights = int(rng.choice([12, 40, 75, 150, 300]))
    base = float(rng.choice([0.05, 0.4, 0.9, 1.6]))
    effects = {
        "exercise": float(rng.choice([1.0, 2.5])),
        "cold": float(rng.choice([1.0, 2.5, 0.25])),
        "stress": float(rng.choice([1.0, 2.5])),
        "recent": float(rng.choice([1.0, 1.0, 2.5, 0.3])),
    }
    recorded = float(rng.choice([0.3, 0.8, 1.0]))  # share of context fields recorded
    stretch_share = float(rng.choice([0.1, 0.5, 0.95]))
    disturbance_high = bool(rng.random() < 0.5)
    left_share = float(rng.choice([0.5, 0.95]))
    thigh_share = float(rng.choice([0.05, 0.7]))
    first_third = bool(rng.random() < 0.3)
    walking_share = float(rng.choice([0.0, 0.5]))
    rls = bool(rng.random() < 0.15)
    flagged = seed % 4 == 1  # red flags and long cramps in some diaries only: the others keep their tips

    profile = {
        "timezone": zone_name,
        "birth_year": int(rng.choice([1950, 1980, 2012])) if seed % 9 == 4 else 1960,
        "has_diabetes": bool(rng.random() < 0.3),
        "on_fluid_restriction": bool(rng.random() < 0.1),
    }
    if seed % 7 == 3:
        profile.update(pregnant=True, due_date=end + timedelta(days=int(rng.integers(-30, 200))))
    if seed % 5 == 2:
        profile["stretch_trial_started_on"] = end - timedelta(days=int(rng.integers(30, 200)))

    courses = []
    start_change = None
    for k in range(int(rng.integers(0, 3))):
        drug = str(rng.choice(DRUG_CHOICES))
        started = end - timedelta(days=int(rng.integers(10, n_nights + 60)))
        stopped = started + timedelta(days=int(rng.integers(5, 80))) if rng.random() < 0.3 else None
        increases = [started + timedelta(days=int(rng.integers(1, 40)))] if rng.random() < 0.4 else []
        courses.append(
            {
                "name": f"{drug} {k}",
                "drug_class": drug,
                "started_on": started,
                "stopped_on": stopped,
                "increases": increases,
            }
        )
        if drug == "statin" and start_change is None:
            start_change = started

    checkins, episodes = [], []
    day = end
    for i in range(n_nights + int(n_nights * 0.3)):
        day = end - timedelta(days=i + 1)
        if i >= n_nights or rng.random() < 0.1:
            continue  # a missing night
        values = {
            "exercise_minutes": int(rng.choice([0, 15, 30, 45, 70, 95])),
            "harder_than_usual": bool(rng.random() < 0.2),
            "fluids_cups": Decimal(str(round(float(rng.uniform(2, 12)), 1))),
            "heavy_sweating": bool(rng.random() < 0.2),
            "vomiting_diarrhoea": bool(rng.random() < 0.05),
            "feet_cold": bool(rng.random() < 0.35),
            "hours_sitting": Decimal(str(round(float(rng.uniform(1, 12)), 1))),
            "hours_standing": Decimal(str(int(rng.integers(0, 8)))),
            "stress": int(rng.integers(0, 11)),
            "sleep_disturbance": int(rng.integers(4, 11) if disturbance_high else rng.integers(0, 6)),
            "stretched_before_bed": bool(rng.random() < stretch_share),
        }
        context = {k: v for k, v in values.items() if rng.random() < recorded}
        rate = base
        if values["exercise_minutes"] >= 60:
            rate *= effects["exercise"]
        if values["feet_cold"]:
            rate *= effects["cold"]
        if values["stress"] >= 7:
            rate *= effects["stress"]
        if i < 28:
            rate *= effects["recent"]
        if start_change and day > start_change:
            rate *= 2
        n = int(rng.poisson(rate))
        answer = rng.random()
        if answer < 0.05:
            no_cramps = None  # unanswered: the night is logged only if an episode says so
        elif answer < 0.1 and n:
            no_cramps, n = False, 0  # "I had cramps" without logging them: counts as one
        else:
            no_cramps = n == 0
        if rng.random() < 0.95:  # else an episode-only night
            bedtime = (
                time(int(rng.choice([21, 22, 23, 0])), int(rng.choice([0, 30, 45]))) if rng.random() < 0.8 else None
            )
            wake = time(int(rng.choice([5, 6, 7, 8])), int(rng.choice([0, 15]))) if rng.random() < 0.8 else None
            checkins.append({"date": day, "no_cramps": no_cramps, "bedtime": bedtime, "wake_time": wake, **context})
        for _ in range(n):
            minutes = int(rng.integers(0, 60)) if first_third and rng.random() < 0.8 else int(rng.integers(0, 9 * 60))
            local = datetime.combine(day, time(22, 0), tzinfo=zone) + timedelta(minutes=minutes)
            recent = i < 35
            episodes.append(
                {
                    "started_at": local.astimezone(UTC),
                    "night": day,
                    "time_approximate": bool(rng.random() < 0.1),
                    "muscle": "hamstring" if rng.random() < thigh_share else str(rng.choice(["calf", "foot", "toes"])),
                    "side": "left" if rng.random() < left_share else str(rng.choice(["right", "both"])),
                    "context": "walking"
                    if rng.random() < walking_share
                    else str(rng.choice(["woke_from_sleep", "lying_awake", "", "sitting"])),
                    "duration_minutes": Decimal(str(int(rng.choice([1, 3, 12 if flagged else 4]))))
                    if rng.random() < 0.8
                    else None,
                    "hard_knot": False if rls else [True, False, None][int(rng.integers(0, 3))],
                    "urge_to_move": rls or bool(rng.random() < 0.02),
                    "walking_pain_relief": str(rng.choice(["standing_still", "sitting_or_bending"]))
                    if recent and rng.random() < 0.03
                    else "",
                    **{
                        name: bool(flagged and recent and rng.random() < 0.02)
                        for name in EPISODE_FLAGS
                        if name not in ("urge_to_move",)
                    },
                }
            )
    return VariedDiary(profile, checkins, episodes, courses)


def save_diary(user, diary: VariedDiary) -> None:
    """Write a VariedDiary for `user` in bulk (nights as generated: 22:00 to 07:00 local lies in its night)."""
    from diary.models import CheckIn, DoseChange, Episode, MedicationCourse, Profile

    Profile.objects.filter(user=user).update(**diary.profile)
    CheckIn.objects.bulk_create([CheckIn(user=user, **row) for row in diary.checkins])
    Episode.objects.bulk_create([Episode(user=user, **row) for row in diary.episodes])
    for row in diary.courses:
        fields = {k: v for k, v in row.items() if k != "increases"}
        course = MedicationCourse.objects.create(user=user, **fields)
        for changed_on in row["increases"]:
            DoseChange.objects.create(course=course, changed_on=changed_on, direction="increase")
