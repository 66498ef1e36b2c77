"""The demo: a patient with four months of realistic diary and a clinician.

Two patterns are planted so the insights have something true to find:
cramps are 2.5x as frequent on nights after a hard exercise day (>= 60 min or
"harder than usual"), and 2.5x as frequent at baseline once a statin starts,
70 nights before the end (past R06's last scheduled look, at 56 days). Both are
strong enough for the analyser's error-controlled ranges to find whichever
weekday the demo ends on (insights/tests/test_demo_patterns.py). Nothing else
(cold feet, stretching, stress, fluids) changes the rate, so any other
"pattern" the analyser reports is a false one.

`plan_diary` is pure (dates and a seeded Random in, plain data out), so the
planted effects can be checked for every weekday alignment without a database;
`seed_demo` writes one plan through the ORM.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .choices import DrugClass, Muscle, OnsetContext, Relief, Sex, Side
from .localtime import local_today
from .models import CheckIn, Episode, MedicationCourse

# Public on purpose: the demo prints them. Don't seed the demo on a public site.
PATIENT_EMAIL = "patient@demo.cramptrack.local"
PATIENT_PASSWORD = "demo-patient-pass"  # noqa: S105
CLINICIAN_EMAIL = "clinician@demo.cramptrack.local"
CLINICIAN_PASSWORD = "demo-clinician-pass"  # noqa: S105
ZONE = ZoneInfo("Europe/London")
BIRTH_YEAR = 1958

NIGHTS = 120
# Fixed so every run builds the same diary, shifted to end yesterday. Chosen
# among seeds whose realised rate ratios sit near the planted ones for all seven
# weekday alignments (diary/tests/test_demo.py), and the analyser finds both
# patterns in each (insights/tests/test_demo_patterns.py).
SEED = 299

BASE_RATE = 0.4  # cramps per night before any exposure
EXERCISE_RATE_RATIO = 2.5
STATIN_RATE_RATIO = 2.5
STATIN_NIGHTS = 70  # the statin starts this many nights before the end, inclusive
# Gamma-distributed night-to-night variation (mean 1): cramps cluster, as the
# analyser's overdispersion correction assumes. Larger is closer to Poisson.
CLUSTERING_SHAPE = 4.0

# Of the nights without a morning check-in, some still have a cramp logged at
# 3 a.m. (two-phase capture) and the rest are truly missing: no row at all.
NIGHTS_WITHOUT_CHECKIN = 15  # 105 of 120 checked in: 87.5%
QUICK_LOG_ONLY_NIGHTS = 8
# Check-ins answered in the morning only, with no evening context recorded.
MORNING_ONLY_SHARE = 0.08


@dataclass
class PlannedCramp:
    local_start: datetime  # naive wall-clock time in ZONE
    fields: dict[str, Any]


@dataclass
class PlannedNight:
    night: date
    checkin: dict[str, Any] | None  # CheckIn fields; None = no check-in that morning
    cramps: list[PlannedCramp] = field(default_factory=list)


@dataclass
class DiaryPlan:
    nights: list[PlannedNight]
    statin_start: date


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    first_night: date
    last_night: date
    logged_nights: int
    checkins: int
    episodes: int
    logins: list[DemoLogin]


def plan_diary(end_night: date, nights: int = NIGHTS, seed: int = SEED) -> DiaryPlan:
    """The demo diary for the `nights` nights ending with the night of `end_night`."""
    rng = random.Random(seed)
    dates = [end_night - timedelta(days=offset) for offset in range(nights - 1, -1, -1)]
    statin_start = end_night - timedelta(days=STATIN_NIGHTS - 1)
    without_checkin = set(rng.sample(range(nights), NIGHTS_WITHOUT_CHECKIN))
    quick_log_only = set(rng.sample(sorted(without_checkin), QUICK_LOG_ONLY_NIGHTS))

    plan = []
    for index, night in enumerate(dates):
        # One stream per night, and the cramp-count draws taken first: moving the
        # calendar (which days are weekends) then changes only the exposures, not
        # the luck of every later night, so the planted effects look alike
        # whichever weekday the demo is seeded on.
        night_rng = random.Random(f"{seed}:{index}")
        count_draw = night_rng.random()
        clustering = night_rng.gammavariate(CLUSTERING_SHAPE, 1 / CLUSTERING_SHAPE)
        morning_only = night_rng.random() < MORNING_ONLY_SHARE
        evening, hard_day = _plan_evening(night_rng, night)

        rate = BASE_RATE * clustering * (EXERCISE_RATE_RATIO if hard_day else 1.0)
        rate *= STATIN_RATE_RATIO if night >= statin_start else 1.0
        count = _poisson_quantile(rate, count_draw)
        if index in quick_log_only:
            count = max(count, 1)  # the night is known only through the cramp logged in it
        cramps = sorted((_plan_cramp(night_rng, night) for _ in range(count)), key=lambda cramp: cramp.local_start)
        morning = _plan_morning(night_rng, count)

        if index in quick_log_only:
            plan.append(PlannedNight(night, None, cramps))
        elif index in without_checkin:
            plan.append(PlannedNight(night, None))  # truly missing: nothing was logged
        elif morning_only:
            plan.append(PlannedNight(night, morning, cramps))
        else:
            plan.append(PlannedNight(night, {**evening, **morning}, cramps))
    return DiaryPlan(plan, statin_start)


def is_hard_day(exercise_minutes: int | None, harder_than_usual: bool | None) -> bool:
    """The planted exposure: a hard day as rule R02 defines it, ">= 60 min or harder than usual".

    R02's third arm, >= 1.5x the personal median, adds nothing here because
    ordinary days are capped at 40 minutes (see _plan_evening).
    """
    return (exercise_minutes or 0) >= 60 or bool(harder_than_usual)


def _plan_evening(rng: random.Random, night: date) -> tuple[dict[str, Any], bool]:
    """Day `night`'s context: a retired walker with longer outings, more often at weekends."""
    weekend = night.weekday() >= 5
    long_share, rest_share = (0.5, 0.1) if weekend else (0.28, 0.18)
    draw = rng.random()
    if draw < long_share:
        minutes, intensity, harder = rng.randrange(60, 125, 5), rng.randint(5, 8), rng.random() < 0.6
    elif draw < long_share + rest_share:
        minutes, intensity, harder = 0, None, False
    else:
        # Capped at 40 so ordinary days stay below 1.5x the personal median,
        # the analyser's other "hard day" threshold.
        minutes, intensity, harder = rng.randrange(15, 45, 5), rng.randint(2, 4), rng.random() < 0.04
    evening = {
        "bedtime": _clock(rng, time(22, 30), spread_minutes=30),
        "exercise_minutes": minutes,
        "exercise_intensity": intensity,
        "harder_than_usual": harder,
        "steps": max(800, round(3500 + 100 * minutes + rng.gauss(0, 1000))),
        "fluids_cups": _half(min(11.0, max(3.0, rng.gauss(6.5, 1.2) + (1.0 if minutes >= 60 else 0.0)))),
        "heavy_sweating": rng.random() < (0.25 if minutes >= 60 else 0.03),
        "vomiting_diarrhoea": rng.random() < 0.01,
        "feet_cold": rng.random() < 0.25,
        "hours_sitting": _half(min(11.0, max(2.0, rng.gauss(6.0, 1.5)))),
        "hours_standing": _half(min(6.0, max(0.5, rng.gauss(2.5, 1.0)))),
        "long_travel": rng.random() < 0.02,
        "stress": _clamp(round(rng.gauss(3, 1.8)), 0, 10),
        "stretched_before_bed": rng.random() < 0.4,
    }
    return evening, is_hard_day(minutes, harder)


def _plan_morning(rng: random.Random, cramps: int) -> dict[str, Any]:
    """The morning answers; sleep suffers on cramp nights (a consequence, not an exposure)."""
    return {
        "no_cramps": cramps == 0,
        "wake_time": _clock(rng, time(6, 45), spread_minutes=30),
        "sleep_hours": _half(min(10.0, max(3.0, rng.gauss(7.3, 0.6) - 0.4 * cramps))),
        "sleep_disturbance": _clamp(round(rng.gauss(1.5, 1.0) + 2.2 * cramps), 0, 10),
    }


def _plan_cramp(rng: random.Random, night: date) -> PlannedCramp:
    """Mostly a calf waking her between 01:00 and 05:00; a few around bedtime or in the evening."""
    draw = rng.random()
    if draw < 0.82:
        hours_after_noon, context = rng.uniform(13, 17), _weighted(rng, {"woke_from_sleep": 0.95, "lying_awake": 0.05})
    elif draw < 0.93:
        hours_after_noon = rng.choice((rng.uniform(11, 13), rng.uniform(17, 18.5)))
        context = _weighted(rng, {"lying_awake": 0.6, "woke_from_sleep": 0.4})
    else:
        hours_after_noon, context = rng.uniform(7, 10), OnsetContext.SITTING.value
    local_start = datetime.combine(night, time(12)) + timedelta(minutes=round(hours_after_noon * 60))
    fields: dict[str, Any] = {
        "muscle": _weighted(rng, {Muscle.CALF: 0.74, Muscle.FOOT: 0.16, Muscle.TOES: 0.10}),
        "side": _weighted(rng, {Side.LEFT: 0.40, Side.RIGHT: 0.35, Side.BOTH: 0.25}),
        "context": context,
        "time_approximate": rng.random() < 0.3,
    }
    # Two-phase capture: some cramps never get their morning details.
    if rng.random() < 0.85:
        fields |= {
            "severity": _clamp(round(rng.gauss(5.5, 1.4)), 3, 8),
            "duration_minutes": _half(min(5.0, max(0.5, rng.lognormvariate(math.log(1.6), 0.6)))),
            "hard_knot": rng.random() < 0.75,
            "relief": _weighted(
                rng, {Relief.STRETCH: 0.5, Relief.WALK: 0.25, Relief.MASSAGE: 0.15, Relief.RESOLVED_ALONE: 0.1}
            ),
            "soreness_hours": _half(rng.uniform(0, 8)) if rng.random() < 0.6 else None,
        }
    return PlannedCramp(local_start, fields)


def _poisson_quantile(rate: float, draw: float) -> int:
    """The Poisson(rate) count at quantile `draw`: a higher rate never gives fewer cramps."""
    count, probability = 0, math.exp(-rate)
    cumulative = probability
    while cumulative < draw:
        count += 1
        probability *= rate / count
        cumulative += probability
    return count


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return str(rng.choices(list(weights), weights=list(weights.values()))[0])


def _clock(rng: random.Random, around: time, spread_minutes: int) -> time:
    minutes = around.hour * 60 + around.minute + round(rng.gauss(0, spread_minutes) / 5) * 5
    return time((minutes // 60) % 24, minutes % 60)


def _half(value: float) -> Decimal:
    return Decimal(round(value * 2)) / 2


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


# --- Writing the demo ----------------------------------------------------------


def seed_demo(today: date | None = None) -> DemoSummary:
    """Create or replace the demo accounts and the patient's diary, ending with last night.

    Idempotent: the demo users are found by email and their diary is deleted
    and rebuilt, so a second run leaves the same rows, never twice as many.
    """
    today = today or local_today(ZONE)
    plan = plan_diary(end_night=today - timedelta(days=1))
    now = timezone.now()
    with transaction.atomic():
        patient = _demo_user(PATIENT_EMAIL, PATIENT_PASSWORD, User.Role.PATIENT, "Demo", "Patient")
        _demo_user(CLINICIAN_EMAIL, CLINICIAN_PASSWORD, User.Role.CLINICIAN, "Demo", "Clinician")
        for model in (Episode, CheckIn, MedicationCourse):
            model.objects.filter(user=patient).delete()
        episodes, checkins, logged = _write_nights(patient, plan.nights, now)
        MedicationCourse.objects.create(
            user=patient,
            name="Atorvastatin",
            drug_class=DrugClass.STATIN,
            dose="20 mg once daily",
            started_on=plan.statin_start,
            notes="Started by the GP for cholesterol.",
        )
    return DemoSummary(
        first_night=plan.nights[0].night,
        last_night=plan.nights[-1].night,
        logged_nights=logged,
        checkins=checkins,
        episodes=episodes,
        logins=[
            DemoLogin("patient", PATIENT_EMAIL, PATIENT_PASSWORD),
            DemoLogin("clinician", CLINICIAN_EMAIL, CLINICIAN_PASSWORD),
        ],
    )


def _demo_user(email: str, password: str, role: str, first_name: str, last_name: str) -> User:
    user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
    user.set_password(password)
    user.role, user.first_name, user.last_name, user.is_active = role, first_name, last_name, True
    user.save()
    # Verified, so digests and share invitations reach the demo accounts at once.
    EmailAddress.objects.filter(user=user).exclude(email=email).delete()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})

    profile = user.profile  # created by the post_save signal
    profile.timezone, profile.timezone_confirmed = ZONE.key, True
    if role == User.Role.PATIENT:
        profile.birth_year, profile.sex, profile.postmenopausal = BIRTH_YEAR, Sex.FEMALE, True
        # Opted in and due now, so the demo's first beat tick sends a weekly email to var/mail/
        # (the one after it follows the usual weekly schedule).
        profile.digest_enabled, profile.digest_next_at = True, timezone.now()
    profile.save()
    return user


def _write_nights(patient: User, nights: list[PlannedNight], now: datetime) -> tuple[int, int, int]:
    """Write the planned rows; returns (episodes, check-ins, logged nights)."""
    checkins, episodes, logged = [], 0, 0
    for planned in nights:
        # Seeded in the small hours, last night's later cramps haven't happened yet.
        starts = [cramp.local_start.replace(tzinfo=ZONE) for cramp in planned.cramps]
        kept = [(start, cramp) for start, cramp in zip(starts, planned.cramps, strict=True) if start <= now]
        for start, cramp in kept:
            # save(), not bulk_create: Episode.save takes the profile's zone and derives the night in it.
            Episode(user=patient, started_at=start, **cramp.fields).save()
        episodes += len(kept)
        if planned.checkin is not None:
            checkins.append(CheckIn(user=patient, date=planned.night, **{**planned.checkin, "no_cramps": not kept}))
        logged += planned.checkin is not None or bool(kept)
    CheckIn.objects.bulk_create(checkins)
    return episodes, len(checkins), logged
