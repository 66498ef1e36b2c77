import uuid
from datetime import UTC, date, datetime

import pytest

from diary.models import CheckIn, Episode, Profile

pytestmark = pytest.mark.django_db


def episode(**overrides):
    data = {"id": str(uuid.uuid4()), "started_at": "2026-11-03T03:10:00Z", "muscle": "calf", "side": "left"}
    data.update(overrides)
    return {"type": "episode", "data": data}


# --- /me ---------------------------------------------------------------------


def test_me_shows_and_updates_the_profile(alice_api, alice):
    data = alice_api.get("/api/v1/me/").data
    assert (data["email"], data["role"], data["timezone"]) == ("alice@example.org", "patient", "Europe/London")
    response = alice_api.patch(
        "/api/v1/me/", {"birth_year": 1956, "has_diabetes": True, "digest_hour": 7}, format="json"
    )
    assert response.status_code == 200, response.data
    profile = Profile.objects.get(user=alice)
    assert (profile.birth_year, profile.has_diabetes, profile.digest_hour) == (1956, True, 7)


@pytest.mark.parametrize(
    "body, field, fragment",
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"birth_year": 1800}, "birth_year", "between"),
        ({"digest_hour": 24}, "digest_hour", "less than or equal to 23"),
        ({"digest_weekday": 7}, "digest_weekday", "less than or equal to 6"),
        ({"sex": "robot"}, "sex", "Allowed: female, male, other"),
        ({"due_date": "2027-03-01"}, "due_date", "pregnancy"),
        ({"emergency_number": "call 999"}, "emergency_number", "phone number"),
        ({"non_emergency_number": "1"}, "non_emergency_number", "phone number"),
        ({"emergency_number": "+44 20 7946 0000 0000 0"}, "emergency_number", "20 characters"),
        ({"fluid_unit": "cups"}, "fluid_unit", "Allowed: ml, us_fl_oz"),
        ({"clock": "13h"}, "clock", "24h, 12h"),
    ],
)
def test_bad_profile_values_get_field_messages(alice_api, alice, body, field, fragment):
    response = alice_api.patch("/api/v1/me/", body, format="json")
    assert response.status_code == 400
    assert fragment in str(response.data[field])
    assert Profile.objects.get(user=alice).timezone == "Europe/London"


def test_a_new_account_is_in_utc_until_a_phone_or_the_person_sets_the_zone():
    from rest_framework.test import APIClient

    from accounts.models import User

    carol = User.objects.create_user(email="carol@example.org", password="correct horse battery")  # noqa: S106
    api_client = APIClient()
    api_client.force_authenticate(carol)
    data = api_client.get("/api/v1/me/").data
    assert (data["timezone"], data["timezone_confirmed"]) == ("UTC", False)

    # Saving anything else leaves it unconfirmed: the app will still set the phone's zone.
    assert api_client.patch("/api/v1/me/", {"birth_year": 1950}, format="json").status_code == 200
    assert Profile.objects.get(user=carol).timezone_confirmed is False
    # Read-only: only a zone that is actually sent confirms it.
    api_client.patch("/api/v1/me/", {"timezone_confirmed": True}, format="json")
    assert Profile.objects.get(user=carol).timezone_confirmed is False

    response = api_client.patch("/api/v1/me/", {"timezone": "America/Los_Angeles"}, format="json")
    assert response.status_code == 200
    assert (response.data["timezone"], response.data["timezone_confirmed"]) == ("America/Los_Angeles", True)
    # The weekly email follows the zone: Monday 18:00 in Los Angeles.
    profile = Profile.objects.get(user=carol)
    sends = profile.digest_next_at.astimezone(profile.zone)
    assert (sends.weekday(), sends.hour) == (0, 18)


def test_the_numbers_to_call_are_saved_as_typed_and_can_be_cleared(alice_api, alice):
    body = {"emergency_number": "999", "non_emergency_number": "+1 (800) 555-0100"}
    response = alice_api.patch("/api/v1/me/", body, format="json")
    assert response.status_code == 200, response.data
    assert {name: response.data[name] for name in body} == body
    assert alice_api.patch("/api/v1/me/", {"emergency_number": ""}, format="json").status_code == 200
    profile = Profile.objects.get(user=alice)
    assert (profile.emergency_number, profile.non_emergency_number) == ("", "+1 (800) 555-0100")


def test_units_and_clock_are_preferences_of_the_profile_and_the_cup_is_250_ml(alice_api, alice):
    data = alice_api.get("/api/v1/me/").data
    assert (data["fluid_unit"], data["clock"]) == ("ml", "")  # blank: the phone's own clock
    response = alice_api.patch("/api/v1/me/", {"fluid_unit": "us_fl_oz", "clock": "12h"}, format="json")
    assert response.status_code == 200, response.data
    profile = Profile.objects.get(user=alice)
    assert (profile.fluid_unit, profile.clock) == ("us_fl_oz", "12h")
    assert alice_api.patch("/api/v1/me/", {"clock": ""}, format="json").status_code == 200
    assert Profile.objects.get(user=alice).clock == ""
    # What is stored doesn't change: cups, whose size the API's schema states.
    schema = alice_api.get("/api/v1/schema/?format=json").json()
    fluids = schema["components"]["schemas"]["CheckIn"]["properties"]["fluids_cups"]
    assert "cups of 250 ml" in fluids["description"]


def test_changing_time_zone_keeps_past_nights_and_files_new_ones_in_the_new_zone(alice_api, alice):
    # 03:00 UTC on the 3rd: night of the 2nd in London, 13:00 on the 3rd (night of the 3rd) in Sydney.
    Episode.objects.create(user=alice, started_at=datetime(2026, 11, 3, 3, tzinfo=UTC), muscle="calf", side="left")
    assert alice_api.patch("/api/v1/me/", {"timezone": "Australia/Sydney"}, format="json").status_code == 200
    assert Episode.objects.get(user=alice).night == date(2026, 11, 2)
    later = alice_api.post("/api/v1/episodes/", episode(started_at="2026-11-04T03:00:00Z")["data"], format="json")
    assert (later.data["timezone"], later.data["night"]) == ("Australia/Sydney", "2026-11-04")


# --- bulk sync -------------------------------------------------------------------


def test_sync_applies_each_record_on_its_own(alice_api, alice):
    good, bad = episode(), episode(severity=42)
    records = [good, bad, {"type": "checkin", "data": {"date": "2026-11-02", "no_cramps": False}}, {"type": "mood"}]
    response = alice_api.post("/api/v1/sync/", {"records": records}, format="json")
    assert response.status_code == 200
    statuses = [r["status"] for r in response.data["results"]]
    assert statuses == ["created", "invalid", "created", "invalid"]
    assert "severity" in response.data["results"][1]["errors"]
    assert Episode.objects.filter(user=alice).count() == 1
    assert CheckIn.objects.filter(user=alice).count() == 1


def test_resending_a_sync_creates_nothing_and_reports_conflicts(alice_api, alice):
    records = [episode() for _ in range(20)]
    alice_api.post("/api/v1/sync/", {"records": records}, format="json")
    changed = {"type": "episode", "data": {**records[0]["data"], "side": "right"}}
    response = alice_api.post("/api/v1/sync/", {"records": [*records, changed]}, format="json")
    statuses = [r["status"] for r in response.data["results"]]
    assert statuses == ["unchanged"] * 20 + ["conflict"]
    assert response.data["results"][-1]["errors"] == {"side": "differs from the stored episode"}
    assert Episode.objects.filter(user=alice).count() == 20


def test_the_same_id_twice_in_one_batch_is_created_once(alice_api, alice):
    record = episode()
    response = alice_api.post("/api/v1/sync/", {"records": [record, record]}, format="json")
    assert [r["status"] for r in response.data["results"]] == ["created", "unchanged"]
    assert Episode.objects.filter(user=alice).count() == 1


def test_a_synced_episode_is_stored_as_a_single_create_stores_it(alice_api, alice):
    """Sync's one-statement INSERT and the single create write the same row, every field and null alike."""
    full = {
        "started_at": "2026-11-03T03:10:00+01:00",
        "time_approximate": True,
        "muscle": "foot",
        "side": "both",
        "duration_minutes": 2.5,
        "severity": 7,
        "context": "woke_from_sleep",
        "hard_knot": False,
        "relief": "stretch",
        "soreness_hours": 12.5,
        "weakness": True,
        "walking_pain_relief": "standing_still",
        "notes": "woke twice, ça tire — 痛い",
    }
    bare = {"started_at": "2026-11-03T04:00:00Z", "muscle": "calf", "side": "left"}
    for body in (full, bare):
        synced, single = {**body, "id": str(uuid.uuid4())}, {**body, "id": str(uuid.uuid4())}
        response = alice_api.post("/api/v1/sync/", {"records": [{"type": "episode", "data": synced}]}, format="json")
        assert response.data["results"][0]["status"] == "created", response.data
        assert alice_api.post("/api/v1/episodes/", single, format="json").status_code == 201
        stored = [alice_api.get(f"/api/v1/episodes/{row['id']}/").data for row in (synced, single)]
        for row in stored:
            row.pop("id"), row.pop("created_at"), row.pop("updated_at")
        assert stored[0] == stored[1]
        assert stored[0]["notes"] == body.get("notes", "")
    assert Profile.objects.get(user=alice).diary_changed_at is not None


def test_sync_needs_client_ids_and_at_most_500_records(alice_api):
    no_id = {"type": "episode", "data": {"started_at": "2026-11-03T03:10:00Z", "muscle": "calf", "side": "left"}}
    assert (
        alice_api.post("/api/v1/sync/", {"records": [no_id]}, format="json").data["results"][0]["status"] == "invalid"
    )
    response = alice_api.post("/api/v1/sync/", {"records": [episode() for _ in range(501)]}, format="json")
    assert response.status_code == 400
    assert "At most 500" in str(response.data["records"])
    assert Episode.objects.count() == 0


def test_sync_accepts_500_records(alice_api, alice):
    response = alice_api.post("/api/v1/sync/", {"records": [episode() for _ in range(500)]}, format="json")
    assert response.status_code == 200
    assert Episode.objects.filter(user=alice).count() == 500


def test_sync_ids_are_scoped_to_their_owner(alice_api, bob_api, alice, bob):
    record = episode()
    bob_api.post("/api/v1/sync/", {"records": [record]}, format="json")
    response = alice_api.post(
        "/api/v1/sync/", {"records": [episode(id=record["data"]["id"], side="right")]}, format="json"
    )
    assert response.data["results"][0]["status"] == "created"
    assert Episode.objects.get(user=bob).side == "left"


def test_a_synced_episode_corrects_a_no_cramps_answer(alice_api, alice):
    CheckIn.objects.create(user=alice, date=date(2026, 11, 2), no_cramps=True)
    alice_api.post("/api/v1/sync/", {"records": [episode()]}, format="json")
    assert CheckIn.objects.get(user=alice).no_cramps is False


def test_sync_rejects_a_body_without_records(alice_api):
    assert alice_api.post("/api/v1/sync/", {"episodes": []}, format="json").status_code == 400
    assert alice_api.post("/api/v1/sync/", [1, 2], format="json").status_code == 400


# --- schema ------------------------------------------------------------------------


def test_openapi_schema_and_docs_are_served(alice_api):
    schema = alice_api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/episodes/", "/api/v1/checkins/{date}/", "/api/v1/sync/", "/api/v1/me/", "/api/v1/import/"):
        assert path in paths
    assert alice_api.get("/api/v1/docs/").status_code == 200
