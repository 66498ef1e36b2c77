"""The analysis through the database, the planner, Celery on Redis, the API and the command."""

import io
import json
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import make_user
from cramptrack.celery import app
from diary.models import CheckIn, Episode, Profile
from insights import refresh, tasks
from insights.models import AnalysisState, Finding
from insights.panel import load_panels

pytestmark = pytest.mark.django_db


def log_night(user, night: date, cramps_at: Sequence[datetime] = (), **context):
    CheckIn.objects.create(user=user, date=night, no_cramps=not cramps_at, **context)
    for when in cramps_at:
        Episode.objects.create(user=user, started_at=when, muscle="calf", side="left", context="woke_from_sleep")


def test_a_far_from_utc_user_gets_the_right_nights():
    kiri = make_user("kiri@example.org", zone="Pacific/Kiritimati")  # UTC+14
    # 14:30 UTC on 1 March is 04:30 on 2 March in Kiritimati: the night of 1 March.
    log_night(kiri, date(2026, 3, 1), [datetime(2026, 3, 1, 14, 30, tzinfo=UTC)], exercise_minutes=90)
    # 23:00 UTC on 1 March is 13:00 on 2 March: the night of 2 March has begun.
    Episode.objects.create(user=kiri, started_at=datetime(2026, 3, 1, 23, 0, tzinfo=UTC), muscle="foot", side="right")
    panel = load_panels([kiri.pk], now=datetime(2026, 3, 5, tzinfo=UTC))[0]
    assert panel.nights.tolist() == [date(2026, 3, 1), date(2026, 3, 2)]
    assert panel.cramps.tolist() == [1, 1]
    assert panel.context["exercise_minutes"][0] == 90  # day 1's context pairs with night 1
    assert np.isnan(panel.context["exercise_minutes"][1])  # night 2 has no check-in: not recorded, not zero


def test_a_dst_week_keeps_every_cramp_in_its_own_night():
    # Europe/London springs forward at 01:00 UTC on Sunday 29 March 2026.
    alice = make_user("alice@example.org", zone="Europe/London")
    cramps = [
        datetime(2026, 3, 28, 11, 30, tzinfo=UTC),  # 11:30 GMT Saturday: still the night of Friday 27th
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 00:30 GMT: the night of the 28th
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 02:30 BST, just after the jump: the night of the 28th
        datetime(2026, 3, 29, 10, 59, tzinfo=UTC),  # 11:59 BST: the night of the 28th, which was 23 hours long
        datetime(2026, 3, 29, 11, 0, tzinfo=UTC),  # 12:00 BST: the night of the 29th begins
    ]
    for when in cramps:
        Episode.objects.create(user=alice, started_at=when, muscle="calf", side="left")
    nights = list(Episode.objects.filter(user=alice).order_by("started_at").values_list("night", flat=True))
    assert nights == [date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 28), date(2026, 3, 28), date(2026, 3, 29)]
    panel = load_panels([alice.pk], now=datetime(2026, 4, 2, tzinfo=UTC))[0]
    assert dict(zip(panel.nights.tolist(), panel.cramps.tolist(), strict=True)) == {
        date(2026, 3, 27): 1,
        date(2026, 3, 28): 3,
        date(2026, 3, 29): 1,
    }
    # Local clock hours are right on both sides of the jump.
    assert panel.episodes.local_hour.tolist() == [11.5, 0.5, 2.5, pytest.approx(11 + 59 / 60), 12.0]


def test_missing_nights_stay_missing_in_the_panel():
    alice = make_user("alice@example.org")
    log_night(alice, date(2026, 10, 1))
    log_night(alice, date(2026, 10, 5), [datetime(2026, 10, 6, 2, tzinfo=UTC)])
    CheckIn.objects.create(user=alice, date=date(2026, 10, 3), exercise_minutes=30)  # context, no answer
    panel = load_panels([alice.pk], now=datetime(2026, 10, 10, tzinfo=UTC))[0]
    assert panel.nights.tolist() == [date(2026, 10, 1), date(2026, 10, 5)]


def test_the_planner_queues_changed_diaries_once_and_the_analysis_is_idempotent():
    alice, bob = make_user("alice@example.org"), make_user("bob@example.org")
    make_user("idle@example.org")  # no diary data: nothing to analyse
    for day in range(1, 20):
        log_night(alice, date(2026, 10, day))
    log_night(bob, date(2026, 10, 1))

    due = refresh.due_user_ids()
    assert set(due) == {alice.pk, bob.pk}
    assert set(refresh.claim(due)) == {alice.pk, bob.pk}
    assert refresh.claim(due) == []  # a second planner tick claims nothing
    assert refresh.due_user_ids() == []

    refresh.analyse_and_store([alice.pk, bob.pk])
    first = list(Finding.objects.filter(user=alice).order_by("rank").values("key", "status", "message"))
    refresh.analyse_and_store([alice.pk, bob.pk])
    again = list(Finding.objects.filter(user=alice).order_by("rank").values("key", "status", "message"))
    assert first == again and first
    assert refresh.due_user_ids() == []

    log_night(alice, date(2026, 10, 25))  # a change marks the diary again
    assert refresh.due_user_ids() == [alice.pk]


def test_a_stale_analysis_is_due_again_after_a_day():
    alice = make_user("alice@example.org")
    log_night(alice, date(2026, 10, 1))
    refresh.analyse_and_store([alice.pk])
    AnalysisState.objects.filter(user=alice).update(analysed_at=timezone.now() - timedelta(hours=25))
    assert refresh.due_user_ids() == [alice.pk]


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_fans_out_chunks_to_a_worker_over_redis():
    users = [make_user(f"p{i}@example.org") for i in range(3)]
    for user in users:
        log_night(user, date(2026, 10, 1), [datetime(2026, 10, 2, 2, tzinfo=UTC)])
    assert tasks.plan_analysis() == 3  # the beat tick: claims 3 diaries, sends one chunk to Redis
    assert tasks.plan_analysis() == 0  # a second tick sends nothing
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        deadline = time.monotonic() + 30
        while AnalysisState.objects.filter(analysed_at__isnull=False).count() < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert AnalysisState.objects.filter(analysed_at__isnull=False).count() == 3
    assert all(Finding.objects.filter(user=user).exists() for user in users)


def test_insights_api_serves_only_the_owners_findings(alice_api, alice, bob):
    for day in range(1, 10):
        log_night(alice, date(2026, 10, day), [datetime(2026, 10, day + 1, 2, tzinfo=UTC)])
    log_night(bob, date(2026, 10, 1))
    refresh.analyse_and_store([alice.pk, bob.pk])
    data = alice_api.get("/api/v1/insights/").json()
    mine = list(Finding.objects.filter(user=alice).order_by("rank").values_list("message", flat=True))
    assert [f["message"] for f in data["findings"]] == mine
    r03 = next(f for f in data["findings"] if f["key"] == "R03")
    assert r03["counts"]["nights_exposed"] + r03["counts"]["nights_other"] == 0  # alice logged no feet_cold
    bobs = APIClient()
    bobs.force_authenticate(bob)
    assert [f["message"] for f in bobs.get("/api/v1/insights/").json()["findings"]] == list(
        Finding.objects.filter(user=bob).order_by("rank").values_list("message", flat=True)
    )
    assert len(data["by_hour"]) == 24 and sum(data["by_hour"]) == 9


def test_analyse_diary_prints_json_findings(alice):
    for day in range(1, 40):
        cramps = [datetime(2026, 9, day % 28 + 1, 3, tzinfo=UTC)] if day % 3 == 0 else []
        CheckIn.objects.update_or_create(
            user=alice,
            date=date(2026, 8, 1) + timedelta(days=day),
            defaults={"no_cramps": not cramps, "feet_cold": day % 2 == 0},
        )
    out = io.StringIO()
    call_command("analyse_diary", "--user", "alice@example.org", "--json", stdout=out)
    findings = json.loads(out.getvalue())
    expected = {"key", "rule", "trigger", "status", "rate_ratio", "interval", "counts", "escalation", "message"}
    assert findings and expected <= set(findings[0])
    assert len({f["key"] for f in findings}) == len(findings)
    r03 = next(f for f in findings if f["rule"] == "R03")
    assert r03["counts"]["nights_exposed"] + r03["counts"]["nights_other"] == 39


def test_analyse_diary_for_an_unknown_email_is_an_error(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("analyse_diary", "--user", "ghost@example.org")


def test_deleting_an_episode_marks_the_diary_for_analysis(alice):
    episode = Episode.objects.create(
        user=alice, started_at=datetime(2026, 10, 2, 2, tzinfo=UTC), muscle="calf", side="left"
    )
    refresh.analyse_and_store([alice.pk])
    assert refresh.due_user_ids() == []
    episode.delete()
    assert refresh.due_user_ids() == [alice.pk]
    assert Profile.objects.get(user=alice).diary_changed_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_analyses_of_one_diary_at_once_both_succeed_and_leave_one_set_of_findings():
    import threading

    from django.db import connection

    user = make_user("concurrent@example.org")
    for day in range(60):
        CheckIn.objects.create(user=user, date=date(2026, 9, 1) + timedelta(days=day), no_cramps=day % 3 != 0)
    errors, start = [], threading.Barrier(2)

    def analyse():
        try:
            start.wait(5)
            refresh.analyse_and_store([user.pk])
        except Exception as error:  # noqa: BLE001 - the assertion reports it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=analyse) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    keys = list(Finding.objects.filter(user=user).values_list("key", flat=True))
    assert keys and len(keys) == len(set(keys))
