import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from diary.models import CheckIn, Episode

pytestmark = pytest.mark.django_db


def episode_body(**overrides):
    body = {
        "id": str(uuid.uuid4()),
        "started_at": "2026-11-03T03:10:00+00:00",
        "muscle": "calf",
        "side": "left",
    }
    body.update(overrides)
    return body


def test_minimal_episode_is_created_with_its_local_night(alice_api, alice):
    response = alice_api.post("/api/v1/episodes/", episode_body(), format="json")
    assert response.status_code == 201, response.data
    # 03:10 in London on the 3rd belongs to the night of the 2nd.
    assert response.data["night"] == "2026-11-02"
    assert Episode.objects.get(user=alice).night == date(2026, 11, 2)


def test_night_follows_the_owners_zone(bob_api, bob):
    # 03:10 UTC is 22:10 on the 2nd in New York: still the night of the 2nd.
    bob_api.post("/api/v1/episodes/", episode_body(started_at="2026-11-03T03:10:00Z"), format="json")
    # 17:00 UTC on the 3rd is 12:00 in New York: the night of the 3rd begins.
    bob_api.post("/api/v1/episodes/", episode_body(started_at="2026-11-03T17:00:00Z"), format="json")
    assert sorted(Episode.objects.filter(user=bob).values_list("night", flat=True)) == [
        date(2026, 11, 2),
        date(2026, 11, 3),
    ]


def test_repeating_a_create_returns_the_stored_row_and_creates_nothing(alice_api, alice):
    body = episode_body(severity=6, duration_minutes="2.5")
    first = alice_api.post("/api/v1/episodes/", body, format="json")
    again = alice_api.post("/api/v1/episodes/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data == first.data
    assert Episode.objects.filter(user=alice).count() == 1


def test_same_id_with_a_different_body_is_a_conflict(alice_api, alice):
    body = episode_body(severity=6)
    alice_api.post("/api/v1/episodes/", body, format="json")
    response = alice_api.post("/api/v1/episodes/", {**body, "severity": 7}, format="json")
    assert response.status_code == 409
    assert response.data["differs"] == ["severity"]
    assert response.data["stored"]["severity"] == 6
    assert Episode.objects.get(user=alice).severity == 6


def test_omitting_a_field_the_stored_row_has_is_a_conflict(alice_api):
    body = episode_body(severity=6)
    alice_api.post("/api/v1/episodes/", body, format="json")
    del body["severity"]
    assert alice_api.post("/api/v1/episodes/", body, format="json").status_code == 409


def test_another_users_uuid_is_no_conflict(alice_api, bob_api, alice, bob):
    body = episode_body()
    assert alice_api.post("/api/v1/episodes/", body, format="json").status_code == 201
    assert bob_api.post("/api/v1/episodes/", {**body, "muscle": "foot"}, format="json").status_code == 201
    assert Episode.objects.get(user=alice).muscle == "calf"


@pytest.mark.parametrize(
    "overrides, field, fragment",
    [
        ({"severity": 11}, "severity", "less than or equal to 10"),
        ({"severity": -1}, "severity", "greater than or equal to 0"),
        ({"duration_minutes": "-3"}, "duration_minutes", "greater than or equal to 0"),
        ({"duration_minutes": "500"}, "duration_minutes", "less than or equal to 180"),
        ({"muscle": "elbow"}, "muscle", "Allowed: calf, foot, toes, hamstring, quadriceps, shin, other"),
        ({"side": "middle"}, "side", "Allowed: left, right, both"),
        ({"context": "dancing"}, "context", "Allowed: woke_from_sleep"),
        ({"started_at": "not a time"}, "started_at", "wrong format"),
        ({"started_at": "1900-01-01T00:00:00Z"}, "started_at", "before 1950"),
        ({"id": "not-a-uuid"}, "id", "valid UUID"),
    ],
)
def test_bad_input_gets_field_messages_and_saves_nothing(alice_api, overrides, field, fragment):
    response = alice_api.post("/api/v1/episodes/", episode_body(**overrides), format="json")
    assert response.status_code == 400
    assert fragment in str(response.data[field])
    assert Episode.objects.count() == 0


def test_start_in_the_future_is_refused_beyond_clock_skew(alice_api):
    soon = (timezone.now() + timedelta(minutes=2)).isoformat()
    later = (timezone.now() + timedelta(minutes=30)).isoformat()
    assert alice_api.post("/api/v1/episodes/", episode_body(started_at=soon), format="json").status_code == 201
    response = alice_api.post("/api/v1/episodes/", episode_body(started_at=later), format="json")
    assert response.status_code == 400
    assert "future" in str(response.data["started_at"])


def test_missing_required_fields_are_named(alice_api):
    response = alice_api.post("/api/v1/episodes/", {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"started_at", "muscle", "side"}


def test_oversized_body_is_refused_before_parsing(alice_api, settings):
    settings.API_MAX_BODY_BYTES = 2000
    response = alice_api.post("/api/v1/episodes/", episode_body(notes="x" * 5000), format="json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert Episode.objects.count() == 0


def test_notes_longer_than_2000_characters_are_refused(alice_api):
    response = alice_api.post("/api/v1/episodes/", episode_body(notes="x" * 2001), format="json")
    assert response.status_code == 400
    assert "notes" in response.data


def test_details_can_be_added_the_next_morning(alice_api, alice):
    body = episode_body()
    alice_api.post("/api/v1/episodes/", body, format="json")
    response = alice_api.patch(
        f"/api/v1/episodes/{body['id']}/",
        {"severity": 7, "duration_minutes": "3", "relief": "stretch", "context": "woke_from_sleep"},
        format="json",
    )
    assert response.status_code == 200, response.data
    episode = Episode.objects.get(user=alice)
    assert (episode.severity, episode.relief, episode.context) == (7, "stretch", "woke_from_sleep")


def test_red_flags_are_listed(alice_api):
    response = alice_api.post(
        "/api/v1/episodes/", episode_body(calf_swelling=True, walking_pain_relief="standing_still"), format="json"
    )
    assert response.data["red_flags"] == ["calf_swelling", "walking_pain_relief"]


def test_an_episode_corrects_a_no_cramps_answer_for_its_night(alice_api, alice):
    CheckIn.objects.create(user=alice, date=date(2026, 11, 2), no_cramps=True)
    alice_api.post("/api/v1/episodes/", episode_body(), format="json")
    assert CheckIn.objects.get(user=alice).no_cramps is False


def test_list_is_scoped_filtered_by_night_and_paginated(alice_api, bob_api):
    for day in range(1, 11):
        started = datetime(2026, 10, day, 2, 0, tzinfo=UTC).isoformat()
        alice_api.post("/api/v1/episodes/", episode_body(started_at=started), format="json")
    bob_api.post("/api/v1/episodes/", episode_body(started_at="2026-10-05T02:00:00Z"), format="json")

    page = alice_api.get("/api/v1/episodes/?since=2026-10-03&until=2026-10-06&page_size=2").data
    assert page["count"] == 4  # nights of the 3rd to the 6th
    assert len(page["results"]) == 2
    assert page["next"]
    assert [row["night"] for row in page["results"]] == ["2026-10-06", "2026-10-05"]


def test_reversed_date_range_is_a_400(alice_api):
    response = alice_api.get("/api/v1/episodes/?since=2026-10-06&until=2026-10-03")
    assert response.status_code == 400
    assert "until" in response.data


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_episode_is_a_404_and_unchanged(alice_api, bob_api, bob, method):
    body = episode_body(severity=3)
    bob_api.post("/api/v1/episodes/", body, format="json")
    response = getattr(alice_api, method)(f"/api/v1/episodes/{body['id']}/", {**body, "severity": 9}, format="json")
    assert response.status_code == 404
    assert Episode.objects.get(user=bob).severity == 3


def test_another_users_episodes_are_absent_from_the_list(alice_api, bob_api):
    bob_api.post("/api/v1/episodes/", episode_body(), format="json")
    assert alice_api.get("/api/v1/episodes/").data["count"] == 0


def test_anonymous_requests_are_refused(db, client):
    assert client.get("/api/v1/episodes/").status_code in (401, 403)
    assert client.post("/api/v1/episodes/", episode_body(), content_type="application/json").status_code in (401, 403)
    assert Episode.objects.count() == 0
