"""Fixtures for the sharing tests: clinicians with real TOTP authenticators, grants in every
state, and a patient diary with cramps, check-ins, a statin course and findings."""

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pyotp
import pytest
from allauth.account.models import EmailAddress
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.allauth_compat import activate_totp, record_authentication
from conftest import make_user
from diary.localtime import local_today, night_of
from diary.models import CheckIn, Episode, MedicationCourse
from insights.models import AnalysisState, Finding
from sharing import codes
from sharing.models import Grant


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows for `secret` (now, or at the Unix time `at`)."""
    return pyotp.TOTP(secret).at(at or time.time())


def make_clinician(email: str, with_totp: bool = True, verified: bool = True):
    user = make_user(email, role="clinician")
    if verified:
        verify_email(user)
    user.totp_secret = None
    if with_totp:
        user.totp_secret = pyotp.random_base32()
        activate_totp(user, user.totp_secret)
    return user


def signed_in(user, mfa: bool = True) -> Client:
    """A browser session for `user`; `mfa` records the password and TOTP steps as allauth's login does."""
    client = Client()
    client.force_login(user)
    if mfa:
        request = RequestFactory().get("/")
        request.session, request.user = client.session, user
        record_authentication(request, user, "password", email=user.email)
        record_authentication(request, user, "mfa", type="totp")
        request.session.save()
    return client


def make_grant(patient, clinician, *, now=None, days=90, accepted=True, practice=None, **fields) -> Grant:
    """An accepted share-code grant, created `days` before it expires unless told otherwise;
    with `practice`, accepted by `clinician` for that practice."""
    now = now or timezone.now()
    values = {
        "patient": patient,
        "kind": Grant.Kind.CODE,
        "code_hash": codes.code_hash(codes.new_code()),
        "created_at": now - timedelta(days=1),
        "offer_expires_at": now + timedelta(hours=23),
        "expires_at": now + timedelta(days=days),
        **fields,
    }
    if accepted:
        reader = {"practice": practice} if practice is not None else {"clinician": clinician}
        values.update(clinician_email=clinician.email, accepted_at=now - timedelta(hours=1), **reader)
    return Grant.objects.create(**values)


def verify_email(user):
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


def seed_diary(user, nights: int = 100, seed: int = 7, statin_nights_ago: int = 40) -> None:
    """`nights` nights ending last night: about 85% checked in, 0-3 cramps a night, a statin course."""
    rng = random.Random(seed)
    zone = user.profile.zone
    last = local_today(zone) - timedelta(days=1)
    checkins, episodes = [], []
    for offset in range(nights):
        day = last - timedelta(days=nights - 1 - offset)
        cramps = rng.choice([0, 0, 0, 1, 1, 2, 3])
        if rng.random() < 0.85:
            checkins.append(
                CheckIn(
                    user=user,
                    date=day,
                    no_cramps=cramps == 0,
                    exercise_minutes=rng.choice([0, 30, 60]),
                    fluids_cups=Decimal(rng.randint(3, 9)),
                    notes="evening notes" if offset == nights - 2 else "",
                )
            )
        elif cramps == 0:
            continue  # a missing night
        for k in range(cramps):
            local = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone) + timedelta(
                hours=2 + k, minutes=rng.randint(0, 50)
            )
            episodes.append(
                Episode(
                    user=user,
                    started_at=local,
                    timezone=user.profile.timezone,
                    night=night_of(local, zone),
                    muscle=rng.choice(["calf", "calf", "calf", "foot", "hamstring"]),
                    side=rng.choice(["left", "right", "both"]),
                    severity=rng.randint(2, 9),
                    duration_minutes=Decimal(rng.randint(1, 12)),
                    context="woke_from_sleep",
                    notes="PRIVATE-NOTE about my evening" if offset == nights - 1 else "",
                )
            )
    CheckIn.objects.bulk_create(checkins)
    Episode.objects.bulk_create(episodes)
    MedicationCourse.objects.create(
        user=user,
        name="Atorvastatin",
        drug_class="statin",
        dose="20 mg",
        started_on=last - timedelta(days=statin_nights_ago),
        notes="PRIVATE-NOTE from the GP letter",
    )


def seed_findings(user, analysed_at=None) -> None:
    analysed_at = analysed_at or timezone.now()
    reported = (local_today(user.profile.zone) - timedelta(days=3)).isoformat()
    rows = [
        dict(
            key="R13:swelling",
            rule="R13",
            trigger="rf_dvt",
            status="escalation",
            escalation="E1",
            rank=0,
            counts={"flag": "calf_swelling", "first_reported": reported, "last_reported": reported, "reports": 1},
            message="You reported a swollen, red or warm calf. Get medical help today. Don't massage that calf.",
        ),
        dict(
            key="R06:statin",
            rule="R06",
            trigger="med_statin",
            status="possible_pattern_higher",
            rank=3,
            counts={
                "cramps_exposed": 30,
                "nights_exposed": 34,
                "cramps_other": 25,
                "nights_other": 50,
                "dispersion": 1.2,
            },
            rate_ratio=1.76,
            ci_low=1.05,
            ci_high=2.95,
            message="Possible pattern: more cramps since the statin started.",
        ),
        dict(
            key="R03",
            rule="R03",
            trigger="tr_cold_feet",
            status="no_clear_pattern",
            rank=7,
            counts={
                "cramps_exposed": 10,
                "nights_exposed": 20,
                "cramps_other": 30,
                "nights_other": 60,
                "dispersion": 1.0,
            },
            rate_ratio=1.0,
            ci_low=0.6,
            ci_high=1.7,
            message="Cold feet: no clear pattern.",
        ),
    ]
    Finding.objects.bulk_create(
        [Finding(user=user, analysis_version="test", analysed_at=analysed_at, **row) for row in rows]
    )
    AnalysisState.objects.update_or_create(user=user, defaults={"analysed_at": analysed_at, "version": "test"})


@pytest.fixture
def dr(db):
    return make_clinician("dr.jones@clinic.example")


@pytest.fixture
def dr_other(db):
    return make_clinician("dr.other@clinic.example")


@pytest.fixture
def small_diary(alice):
    seed_diary(alice, nights=21, statin_nights_ago=10)
    seed_findings(alice)
    return alice


@pytest.fixture
def diary(alice):
    seed_diary(alice)
    seed_findings(alice)
    return alice


@pytest.fixture
def grant(diary, dr):
    return make_grant(diary, dr)
