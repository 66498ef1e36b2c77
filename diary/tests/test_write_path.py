"""The lean episode write path and token authentication behave as the ORM paths they replace."""

import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from diary import recording
from diary.models import CheckIn, Episode, Profile
from diary.recording import Conflict

pytestmark = pytest.mark.django_db


def validated(**overrides):
    data = {
        "uuid": uuid.uuid4(),
        "started_at": timezone.now().replace(year=2026, month=11, day=3, hour=3, minute=10),
        "muscle": "calf",
        "side": "left",
        "severity": 6,
    }
    return {**data, **overrides}


@pytest.fixture(params=["one_statement", "orm"])
def insert_path(request, monkeypatch):
    """Both ways create_episode stores a row: the PostgreSQL statement and the ORM (SQLite)."""
    if request.param == "orm":
        monkeypatch.setattr(recording, "_insert_episode_marked", recording._insert_episode_orm)
    return request.param


def test_create_stores_marks_the_diary_and_corrects_no_cramps(alice, insert_path):
    data = validated()
    alice.refresh_from_db()
    CheckIn.objects.create(user=alice, date=date(2026, 11, 2), no_cramps=True)
    Profile.objects.filter(user=alice).update(diary_changed_at=None)

    episode, created = recording.create_episode(alice, data)

    assert created and episode.pk
    stored = Episode.objects.get(pk=episode.pk)
    assert (stored.uuid, stored.night, stored.severity, stored.context) == (data["uuid"], date(2026, 11, 2), 6, "")
    assert stored.created_at is not None
    assert Profile.objects.get(user=alice).diary_changed_at is not None
    assert CheckIn.objects.get(user=alice).no_cramps is False


def test_same_uuid_returns_the_stored_row_and_a_different_body_conflicts(alice, insert_path):
    data = validated()
    first, _ = recording.create_episode(alice, data)
    Profile.objects.filter(user=alice).update(diary_changed_at=None)

    again, created = recording.create_episode(alice, dict(data))
    assert (again.pk, created) == (first.pk, False)
    # Nothing was written: the marker stays as it was.
    assert Profile.objects.get(user=alice).diary_changed_at is None

    with pytest.raises(Conflict) as conflict:
        recording.create_episode(alice, {**data, "side": "right"})
    assert conflict.value.fields == ["side"]
    assert Episode.objects.filter(user=alice).count() == 1


def test_another_users_uuid_is_a_separate_row(alice, bob, insert_path):
    data = validated()
    recording.create_episode(alice, data)
    _, created = recording.create_episode(bob, dict(data))
    assert created
    assert Episode.objects.filter(uuid=data["uuid"]).count() == 2


def token_client(user, **token_kwargs):
    token = AuthToken.objects.create(user, **token_kwargs)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_episode_create_costs_two_queries(alice):
    client = token_client(alice)
    body = {"id": str(uuid.uuid4()), "started_at": "2026-11-03T03:10:00+00:00", "muscle": "calf", "side": "left"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/episodes/", body, format="json")
    assert response.status_code == 201, response.data
    # The token with its user and profile; the row with its marker and correction.
    assert len(queries.captured_queries) == 2, [q["sql"][:80] for q in queries.captured_queries]
    assert response.data["night"] == "2026-11-02"


def test_an_expired_token_is_refused_and_deleted(alice):
    client = token_client(alice, expiry=timedelta(seconds=-1))
    assert client.get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(user=alice).exists()


def test_an_inactive_users_token_is_refused(alice):
    client = token_client(alice)
    alice.is_active = False
    alice.save()
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("header", ["Token nonsense", "Token " + "é" * 64, "Token ", "Token a b"])
def test_malformed_tokens_are_401(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/me/").status_code == 401


def test_a_token_of_another_user_with_the_same_key_prefix_does_not_authenticate(alice, bob):
    token = AuthToken.objects.create(alice)[1]
    forged = token[:15] + ("0" if token[15] != "0" else "1") + token[16:]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    assert client.get("/api/v1/me/").status_code == 401


def test_the_sync_insert_refuses_a_taken_uuid_with_djangos_integrity_error(alice):
    """The sync falls back to one savepoint per episode on IntegrityError (a concurrent sync won a uuid):
    the raw INSERT must raise Django's class, and store none of its batch."""
    from django.db import IntegrityError, transaction

    taken = Episode.objects.create(user=alice, night=date(2026, 11, 2), **validated())
    batch = [Episode(user=alice, night=date(2026, 11, 2), **validated()) for _ in range(3)]
    batch.append(Episode(user=alice, night=date(2026, 11, 2), **validated(uuid=taken.uuid)))
    with pytest.raises(IntegrityError), transaction.atomic():
        recording.insert_episodes(batch)
    assert list(Episode.objects.filter(user=alice).values_list("uuid", flat=True)) == [taken.uuid]
    recording.insert_episodes(batch[:3])
    assert Episode.objects.filter(user=alice).count() == 4


def _profile_updates() -> tuple[int, int]:
    """This transaction's (updates, HOT updates) of diary_profile rows, from PostgreSQL's own counters."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            [Profile._meta.db_table] * 2,
        )
        return cursor.fetchone()


def test_marking_the_diary_changed_is_a_hot_update(alice, insert_path):
    """Every diary write re-marks the profile row; an index on the marker would make each of those
    updates add index entries (not HOT), bloating the row's pages and slowing creates' tail."""
    before = _profile_updates()
    for _ in range(3):
        recording.create_episode(alice, validated())
    updated, hot = (now - then for now, then in zip(_profile_updates(), before, strict=True))
    assert updated == 3
    assert hot == 3
