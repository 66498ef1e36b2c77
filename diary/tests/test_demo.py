from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import User
from diary import demo
from diary.localtime import local_today
from diary.models import CheckIn, Episode, MedicationCourse


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def demo_patient() -> User:
    return User.objects.get(email=demo.PATIENT_EMAIL)


def diary_counts(user: User) -> tuple[int, int, int]:
    return (
        CheckIn.objects.filter(user=user).count(),
        Episode.objects.filter(user=user).count(),
        MedicationCourse.objects.filter(user=user).count(),
    )


def is_exercise_night(minutes: int, harder: bool | None) -> bool:
    # Written out here rather than reusing demo.is_hard_day, so the test states the definition.
    return minutes >= 60 or harder is True


def rate_ratio(cramps_by_night: Counter, exposed: list[date], unexposed: list[date]) -> float:
    exposed_rate = sum(cramps_by_night[night] for night in exposed) / len(exposed)
    unexposed_rate = sum(cramps_by_night[night] for night in unexposed) / len(unexposed)
    return exposed_rate / unexposed_rate


def test_seed_demo_logs_most_of_120_nights_ending_last_night(db):
    output = seed()
    patient = demo_patient()
    yesterday = local_today(demo.ZONE) - timedelta(days=1)
    checkin_nights = set(CheckIn.objects.filter(user=patient).values_list("date", flat=True))
    episode_nights = set(Episode.objects.filter(user=patient).values_list("night", flat=True))
    logged = checkin_nights | episode_nights
    assert 110 <= len(logged) < demo.NIGHTS  # some nights are left truly missing
    assert min(logged) >= yesterday - timedelta(days=demo.NIGHTS - 1)
    assert max(checkin_nights) <= yesterday
    assert 0.85 <= len(checkin_nights) / demo.NIGHTS <= 0.90
    # A cramp logged at 3 a.m. without a morning check-in still makes a logged night.
    assert episode_nights - checkin_nights
    assert demo.PATIENT_EMAIL in output and demo.PATIENT_PASSWORD in output
    assert demo.CLINICIAN_EMAIL in output and demo.CLINICIAN_PASSWORD in output


def test_episodes_look_like_night_cramps(db):
    seed()
    episodes = list(Episode.objects.filter(user=demo_patient()))
    assert len(episodes) >= 60
    local_hours = [episode.started_at.astimezone(demo.ZONE).hour for episode in episodes]
    assert sum(1 <= hour < 5 for hour in local_hours) / len(episodes) >= 0.7
    assert Counter(episode.muscle for episode in episodes).most_common(1)[0][0] == "calf"
    assert {episode.muscle for episode in episodes} <= {"calf", "foot", "toes"}
    assert {episode.side for episode in episodes} == {"left", "right", "both"}
    assert sum(episode.context == "woke_from_sleep" for episode in episodes) / len(episodes) >= 0.7
    assert {episode.severity for episode in episodes} - {None} <= set(range(3, 9))
    durations = [episode.duration_minutes for episode in episodes if episode.duration_minutes is not None]
    assert min(durations) >= 0.5 and max(durations) <= 5
    # The demo must not raise an escalation nobody planted.
    assert not any(episode.red_flags for episode in episodes)


def test_checkin_answers_agree_with_the_episodes(db):
    seed()
    patient = demo_patient()
    episode_nights = set(Episode.objects.filter(user=patient).values_list("night", flat=True))
    for checkin in CheckIn.objects.filter(user=patient):
        assert checkin.no_cramps is (checkin.date not in episode_nights)


def test_second_run_replaces_the_diary_instead_of_adding_to_it(db):
    seed()
    first = diary_counts(demo_patient())
    seed()
    assert diary_counts(demo_patient()) == first
    assert User.objects.filter(email__in=[demo.PATIENT_EMAIL, demo.CLINICIAN_EMAIL]).count() == 2
    assert EmailAddress.objects.filter(email__in=[demo.PATIENT_EMAIL, demo.CLINICIAN_EMAIL]).count() == 2


def test_demo_accounts_are_verified_and_log_in_with_the_printed_passwords(db):
    seed()
    patient, clinician = demo_patient(), User.objects.get(email=demo.CLINICIAN_EMAIL)
    assert (patient.role, clinician.role) == ("patient", "clinician")
    assert patient.check_password(demo.PATIENT_PASSWORD)
    assert clinician.check_password(demo.CLINICIAN_PASSWORD)
    for user in (patient, clinician):
        address = EmailAddress.objects.get(user=user)
        assert (address.email, address.verified, address.primary) == (user.email, True, True)
    assert (patient.profile.timezone, patient.profile.birth_year) == ("Europe/London", 1958)


def test_the_demo_patient_gets_a_weekly_email_on_the_first_digest_tick(db):
    from notifications.models import DigestDelivery
    from notifications.tasks import plan_digests

    seed()
    plan_digests.apply()
    assert list(DigestDelivery.objects.values_list("user__email", flat=True)) == [demo.PATIENT_EMAIL]


def test_statin_course_starts_70_nights_before_the_end_and_raises_the_rate(db):
    seed()
    patient = demo_patient()
    course = MedicationCourse.objects.get(user=patient)
    yesterday = local_today(demo.ZONE) - timedelta(days=1)
    assert (course.drug_class, course.name, course.stopped_on) == ("statin", "Atorvastatin", None)
    assert course.started_on == yesterday - timedelta(days=demo.STATIN_NIGHTS - 1)

    nights = sorted(CheckIn.objects.filter(user=patient).values_list("date", flat=True))
    cramps = Counter(Episode.objects.filter(user=patient).values_list("night", flat=True))
    before = [night for night in nights if night < course.started_on][-28:]  # the analyser's R06 pre-window
    after = [night for night in nights if night >= course.started_on]
    assert len(before) == 28 and len(after) >= 40
    assert rate_ratio(cramps, after, before) > 1.5


def test_planted_exercise_effect_is_visible_in_the_rows(db):
    seed()
    patient = demo_patient()
    cramps = Counter(Episode.objects.filter(user=patient).values_list("night", flat=True))
    # Only nights with a check-in that recorded exercise count; missing is not zero.
    rows = CheckIn.objects.filter(user=patient, exercise_minutes__isnull=False)
    exposed = [row.date for row in rows if is_exercise_night(row.exercise_minutes, row.harder_than_usual)]
    unexposed = [row.date for row in rows if not is_exercise_night(row.exercise_minutes, row.harder_than_usual)]
    assert len(exposed) >= 28 and len(unexposed) >= 28  # the analyser's data gate
    assert rate_ratio(cramps, exposed, unexposed) > 1.5


@pytest.mark.parametrize("weekday_shift", range(7))
def test_planted_effects_show_whichever_weekday_the_demo_ends_on(weekday_shift):
    # Weekends carry more long walks, so the realised data depend on the weekday of the last night.
    plan = demo.plan_diary(end_night=date(2026, 3, 2) + timedelta(days=weekday_shift))
    cramps = Counter({night.night: len(night.cramps) for night in plan.nights})
    recorded = [night.checkin | {"night": night.night} for night in plan.nights if night.checkin]
    with_exercise = [row for row in recorded if row.get("exercise_minutes") is not None]
    hard = [is_exercise_night(row["exercise_minutes"], row["harder_than_usual"]) for row in with_exercise]
    exposed = [row["night"] for row, is_hard in zip(with_exercise, hard, strict=True) if is_hard]
    unexposed = [row["night"] for row, is_hard in zip(with_exercise, hard, strict=True) if not is_hard]
    assert len(exposed) >= 28
    assert rate_ratio(cramps, exposed, unexposed) > 1.5
    before = [row["night"] for row in recorded if row["night"] < plan.statin_start][-28:]
    after = [row["night"] for row in recorded if row["night"] >= plan.statin_start]
    assert rate_ratio(cramps, after, before) > 1.5


def test_seeding_in_the_small_hours_logs_no_cramp_in_the_future(db, monkeypatch):
    today = local_today(demo.ZONE)
    small_hours = datetime.combine(today, time(1, 0), tzinfo=demo.ZONE).astimezone(UTC)
    monkeypatch.setattr(demo.timezone, "now", lambda: small_hours)
    demo.seed_demo(today=today)
    assert not Episode.objects.filter(user=demo_patient(), started_at__gt=small_hours).exists()
