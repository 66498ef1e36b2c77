import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from diary.models import CheckIn, Episode

pytestmark = pytest.mark.django_db


def test_morning_none_then_evening_context_merge_into_one_checkin(alice_api, alice):
    first = alice_api.post("/api/v1/checkins/", {"date": "2026-11-02", "no_cramps": True}, format="json")
    assert first.status_code == 201, first.data
    second = alice_api.patch(
        "/api/v1/checkins/2026-11-02/", {"exercise_minutes": 45, "fluids_cups": "6.5", "feet_cold": True}, format="json"
    )
    assert second.status_code == 200, second.data
    row = CheckIn.objects.get(user=alice)
    assert (row.no_cramps, row.exercise_minutes, row.feet_cold) == (True, 45, True)
    assert str(row.fluids_cups) == "6.5"


def test_post_for_an_existing_date_upserts_instead_of_duplicating(alice_api, alice):
    alice_api.post("/api/v1/checkins/", {"id": str(uuid.uuid4()), "date": "2026-11-02", "stress": 3}, format="json")
    response = alice_api.post(
        "/api/v1/checkins/", {"id": str(uuid.uuid4()), "date": "2026-11-02", "stress": 8}, format="json"
    )
    assert response.status_code == 200
    assert CheckIn.objects.filter(user=alice).count() == 1
    assert CheckIn.objects.get(user=alice).stress == 8


def test_put_creates_a_missing_date_and_replaces_a_present_one(alice_api, alice):
    created = alice_api.put("/api/v1/checkins/2026-11-02/", {"stress": 5, "sleep_hours": "7"}, format="json")
    assert created.status_code == 201, created.data
    replaced = alice_api.put("/api/v1/checkins/2026-11-02/", {"no_cramps": True}, format="json")
    assert replaced.status_code == 200
    row = CheckIn.objects.get(user=alice)
    assert (row.no_cramps, row.stress, row.sleep_hours) == (True, None, None)


def test_repeating_the_same_upsert_changes_nothing(alice_api, alice):
    body = {"id": str(uuid.uuid4()), "date": "2026-11-02", "no_cramps": True}
    alice_api.post("/api/v1/checkins/", body, format="json")
    before = CheckIn.objects.values().get(user=alice)
    alice_api.post("/api/v1/checkins/", body, format="json")
    after = CheckIn.objects.values().get(user=alice)
    assert {k: v for k, v in before.items() if k != "updated_at"} == {
        k: v for k, v in after.items() if k != "updated_at"
    }


def test_a_checkin_id_reused_for_another_date_is_a_conflict(alice_api, alice):
    uid = str(uuid.uuid4())
    alice_api.post("/api/v1/checkins/", {"id": uid, "date": "2026-11-02"}, format="json")
    response = alice_api.post("/api/v1/checkins/", {"id": uid, "date": "2026-11-03"}, format="json")
    assert response.status_code == 409
    assert CheckIn.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize(
    "body, field, fragment",
    [
        ({"date": "2026-11-02", "stress": 11}, "stress", "less than or equal to 10"),
        ({"date": "2026-11-02", "sleep_disturbance": -2}, "sleep_disturbance", "greater than or equal to 0"),
        ({"date": "2026-11-02", "hours_sitting": "20", "hours_standing": "10"}, "hours_standing", "more than 24"),
        ({"date": "2026-11-02", "fluids_cups": "400"}, "fluids_cups", "digits"),
        ({"date": "2026-11-02", "exercise_minutes": 5000}, "exercise_minutes", "less than or equal to 1440"),
        ({"date": "1800-01-01"}, "date", "before 1950"),
        ({"date": "2999-01-01"}, "date", "future"),
        ({"stress": 3}, "date", "required"),
    ],
)
def test_bad_checkins_get_field_messages_and_save_nothing(alice_api, body, field, fragment):
    response = alice_api.post("/api/v1/checkins/", body, format="json")
    assert response.status_code == 400
    assert fragment in str(response.data[field])
    assert CheckIn.objects.count() == 0


def test_no_cramps_is_refused_for_a_night_with_logged_cramps(alice_api, alice):
    Episode.objects.create(user=alice, started_at=datetime(2026, 11, 3, 3, tzinfo=UTC), muscle="calf", side="left")
    response = alice_api.post("/api/v1/checkins/", {"date": "2026-11-02", "no_cramps": True}, format="json")
    assert response.status_code == 400
    assert "1 cramp" in str(response.data["no_cramps"])


def test_today_is_allowed_for_the_evening_context(alice_api):
    from django.utils import timezone

    today = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")).date()
    response = alice_api.post("/api/v1/checkins/", {"date": today.isoformat(), "exercise_minutes": 30}, format="json")
    assert response.status_code == 201, response.data
    tomorrow = today + timedelta(days=1)
    assert alice_api.post("/api/v1/checkins/", {"date": tomorrow.isoformat()}, format="json").status_code == 400


def test_list_filters_by_date_and_hides_other_users(alice_api, bob_api):
    for day in range(1, 6):
        alice_api.post("/api/v1/checkins/", {"date": date(2026, 10, day).isoformat()}, format="json")
    bob_api.post("/api/v1/checkins/", {"date": "2026-10-03"}, format="json")
    data = alice_api.get("/api/v1/checkins/?since=2026-10-02&until=2026-10-04").data
    assert [row["date"] for row in data["results"]] == ["2026-10-04", "2026-10-03", "2026-10-02"]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_checkin_is_a_404_for_reads_and_deletes_and_never_changes(alice_api, bob_api, bob, method):
    bob_api.post("/api/v1/checkins/", {"date": "2026-10-03", "stress": 2}, format="json")
    response = getattr(alice_api, method)("/api/v1/checkins/2026-10-03/", {"stress": 9}, format="json")
    if method in ("get", "delete"):
        assert response.status_code == 404
    else:
        # An upsert by date writes alice's own row; bob's is untouched.
        assert response.status_code == 201
    assert CheckIn.objects.get(user=bob).stress == 2


def test_an_impossible_date_in_the_url_is_a_404(alice_api):
    assert alice_api.get("/api/v1/checkins/2026-02-30/").status_code == 404
