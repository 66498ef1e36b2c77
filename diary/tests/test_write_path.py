"""One write path: every door into the diary marks it changed and corrects "no cramps" the same way,
and API tokens are knox's, with an expiry."""

import io
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from diary.models import CheckIn, Episode, Profile

pytestmark = pytest.mark.django_db

NIGHT = date(2026, 11, 2)  # 03:10 UTC on the 3rd is the night of the 2nd in London


def body(**overrides):
    return {
        "id": str(uuid.uuid4()),
        "started_at": "2026-11-03T03:10:00Z",
        "muscle": "calf",
        "side": "left",
        **overrides,
    }


def unmarked(user) -> None:
    Profile.objects.filter(user=user).update(diary_changed_at=None)


def marked(user) -> bool:
    return Profile.objects.get(user=user).diary_changed_at is not None


def said_no_cramps(user) -> None:
    CheckIn.objects.create(user=user, date=NIGHT, no_cramps=True)
    unmarked(user)


def create(api, user):
    assert api.post("/api/v1/episodes/", body(), format="json").status_code == 201


def sync(api, user):
    response = api.post("/api/v1/sync/", {"records": [{"type": "episode", "data": body()}]}, format="json")
    assert response.data["results"][0]["status"] == "created"


def import_csv(api, user):
    upload = io.BytesIO(b"started_at,muscle,side\n2026-11-03T03:10:00Z,calf,left\n")
    upload.name = "episodes.csv"
    response = api.post("/api/v1/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 200, response.data


@pytest.mark.parametrize("write", [create, sync, import_csv])
def test_every_way_in_marks_the_diary_and_corrects_no_cramps(alice_api, alice, write):
    said_no_cramps(alice)
    write(alice_api, alice)
    assert Episode.objects.get(user=alice).night == NIGHT
    assert CheckIn.objects.get(user=alice).no_cramps is False
    assert marked(alice)


def test_a_repeated_create_writes_nothing_and_leaves_the_marker(alice_api, alice):
    episode = body()
    alice_api.post("/api/v1/episodes/", episode, format="json")
    unmarked(alice)
    assert alice_api.post("/api/v1/episodes/", episode, format="json").status_code == 200
    assert not marked(alice)


def test_deleting_through_the_api_marks_the_diary(alice_api, alice):
    episode = body()
    alice_api.post("/api/v1/episodes/", episode, format="json")
    unmarked(alice)
    assert alice_api.delete(f"/api/v1/episodes/{episode['id']}/").status_code == 204
    assert marked(alice)


@pytest.fixture
def operator(client, db):
    User.objects.create_superuser(email="ops@example.org", password="correct horse battery")  # noqa: S106
    client.login(email="ops@example.org", password="correct horse battery")  # noqa: S106
    return client


def test_the_admins_bulk_delete_marks_the_diary(operator, alice):
    Episode.objects.create(user=alice, started_at=datetime(2026, 11, 3, 3, tzinfo=UTC), muscle="calf", side="left")
    unmarked(alice)
    ids = list(Episode.objects.filter(user=alice).values_list("pk", flat=True))
    response = operator.post(
        "/admin/diary/episode/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert not Episode.objects.filter(user=alice).exists()
    assert marked(alice)


def test_the_admins_time_zone_change_keeps_past_nights_as_the_api_does(operator, alice):
    Episode.objects.create(user=alice, started_at=datetime(2026, 11, 3, 3, tzinfo=UTC), muscle="calf", side="left")
    unmarked(alice)
    profile = Profile.objects.get(user=alice)
    form = {
        "user": alice.pk,
        "timezone": "Australia/Sydney",
        "digest_weekday": profile.digest_weekday,
        "digest_hour": profile.digest_hour,
        "digest_enabled": "on",
        "fluid_unit": profile.fluid_unit,
    }
    response = operator.post(f"/admin/diary/profile/{profile.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert Profile.objects.get(user=alice).timezone == "Australia/Sydney"
    assert Episode.objects.get(user=alice).night == date(2026, 11, 2)  # lived in London: the night of the 2nd
    alice.refresh_from_db()  # the next request's user, with the new profile
    later = Episode.objects.create(
        user=alice, started_at=datetime(2026, 11, 4, 3, tzinfo=UTC), muscle="calf", side="left"
    )
    assert (later.timezone, later.night) == ("Australia/Sydney", date(2026, 11, 4))
    assert marked(alice)


# --- API tokens (knox) ---------------------------------------------------------


def token_client(user, **token_kwargs):
    token = AuthToken.objects.create(user, **token_kwargs)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_new_token_expires_after_the_configured_days(alice):
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": "alice@example.org", "password": "correct horse battery"}, format="json"
    )
    assert response.status_code == 201
    lives = AuthToken.objects.get(user=alice).expiry - timezone.now()
    assert abs(lives - settings.REST_KNOX["TOKEN_TTL"]) < timedelta(minutes=1)


def test_an_expired_token_is_a_401_and_deleted(alice):
    client = token_client(alice, expiry=timedelta(seconds=-1))
    assert client.get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(user=alice).exists()


def test_using_a_token_moves_its_expiry_forward(alice):
    client = token_client(alice, expiry=timedelta(days=1))
    assert client.get("/api/v1/me/").status_code == 200
    lives = AuthToken.objects.get(user=alice).expiry - timezone.now()
    assert lives > settings.REST_KNOX["TOKEN_TTL"] - timedelta(minutes=1)


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


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_to_one_diary_queue_rather_than_deadlock(alice):
    """A sync (episodes, then a check-in) and check-in upserts for the same diary, at the same time:
    every diary write takes the owner's profile row first, so none of them fails."""
    token = AuthToken.objects.create(alice)[1]
    failures: list = []
    days = [(date(2026, 11, 2) - timedelta(days=n)).isoformat() for n in range(20)]

    def client():
        api = APIClient(raise_request_exception=False)  # a deadlock is a 503 in the failures, not a dead thread
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api

    def syncing():
        api = client()
        for day in days:
            records = [{"type": "episode", "data": body()}, {"type": "checkin", "data": {"date": day, "stress": 3}}]
            response = api.post("/api/v1/sync/", {"records": records}, format="json")
            if response.status_code != 200 or {r["status"] for r in response.data["results"]} - {"created", "updated"}:
                failures.append(("sync", response.status_code, response.content[:200]))

    def upserting():
        api = client()
        for day in days:
            response = api.post("/api/v1/checkins/", {"date": day, "sleep_hours": 7}, format="json")
            if response.status_code not in (200, 201):
                failures.append(("upsert", response.status_code, response.content[:200]))

    def in_thread(work):
        try:
            work()
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=in_thread, args=(work,)) for work in (syncing, upserting, upserting)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert CheckIn.objects.filter(user=alice).count() == len(days)
    assert all(c.stress == 3 and c.sleep_hours == 7 for c in CheckIn.objects.filter(user=alice))
