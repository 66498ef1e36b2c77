"""Nights belong to the zone they were lived in: each episode keeps the zone in force when it was
recorded, and a later change of the profile's zone (a move, a trip) never rewrites a past night."""

import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

from conftest import make_user
from diary import exporter, importer
from diary.models import CheckIn, Episode
from insights.panel import load_panels

pytestmark = pytest.mark.django_db

LONDON, LOS_ANGELES, NEW_YORK = "Europe/London", "America/Los_Angeles", "America/New_York"


def cramp(**overrides):
    return {"id": str(uuid.uuid4()), "muscle": "calf", "side": "left", **overrides}


def post_cramp(client, **overrides):
    response = client.post("/api/v1/episodes/", cramp(**overrides), format="json")
    assert response.status_code == 201, response.data
    return response.data


def nights_and_zones(user) -> list[tuple]:
    return list(Episode.objects.filter(user=user).order_by("started_at").values_list("night", "timezone"))


def test_a_traveller_keeps_the_nights_she_lived_in_london(alice_api, alice):
    # In London (GMT, the clock is UTC in November): a cramp at 03:00 on the 3rd (the night of the 2nd) and one
    # in an afternoon nap at 13:30 on the 4th (the night of the 4th); "no cramps" on the nights of the 1st and 3rd.
    post_cramp(alice_api, started_at="2026-11-03T03:00:00Z")
    post_cramp(alice_api, started_at="2026-11-04T13:30:00Z")
    for day in ("2026-11-01", "2026-11-03"):
        assert alice_api.put(f"/api/v1/checkins/{day}/", {"no_cramps": True}, format="json").status_code == 201

    # She moves to Los Angeles, where the nap would have been 05:30 on the 4th: the night of the 3rd.
    assert alice_api.patch("/api/v1/me/", {"timezone": LOS_ANGELES}, format="json").status_code == 200

    assert nights_and_zones(alice) == [(date(2026, 11, 2), LONDON), (date(2026, 11, 4), LONDON)]
    cramp_free = set(CheckIn.objects.filter(user=alice, no_cramps=True).values_list("date", flat=True))
    assert cramp_free == {date(2026, 11, 1), date(2026, 11, 3)}  # her answers stand, and no cramp contradicts them

    # A new cramp is lived in Los Angeles: 07:00 PST on the 6th is the night of the 5th (in London, of the 6th).
    new = post_cramp(alice_api, started_at="2026-11-06T15:00:00Z")
    assert (new["timezone"], new["night"]) == (LOS_ANGELES, "2026-11-05")

    # The analysis reads each cramp on the clock it was lived by.
    panel = load_panels([alice.pk], now=datetime(2026, 11, 7, 20, tzinfo=UTC))[0]
    assert dict(zip(panel.nights.tolist(), panel.cramps.tolist(), strict=True)) == {
        date(2026, 11, 1): 0,
        date(2026, 11, 2): 1,
        date(2026, 11, 3): 0,
        date(2026, 11, 4): 1,
        date(2026, 11, 5): 1,
    }
    assert panel.episodes.local_hour.tolist() == [3.0, 13.5, 7.0]
    assert panel.episodes.started_on.astype(str).tolist() == ["2026-11-03", "2026-11-04", "2026-11-06"]


def test_the_zone_the_phone_sends_files_the_night(alice_api, alice):
    # 03:00 UTC on the 3rd is noon in Tokyo: the night of the 3rd begins (in London it was the night of the 2nd).
    stored = post_cramp(alice_api, started_at="2026-11-03T03:00:00Z", timezone="Asia/Tokyo")
    assert (stored["timezone"], stored["night"]) == ("Asia/Tokyo", "2026-11-03")
    assert alice_api.get(f"/api/v1/episodes/{stored['id']}/").data["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    "zone, fragment", [("Mars/Olympus", "IANA"), ("", "may not be blank"), (5, "Must be a string"), (None, "null")]
)
def test_a_zone_that_is_not_an_iana_name_is_a_400_and_saves_nothing(alice_api, alice, zone, fragment):
    response = alice_api.post(
        "/api/v1/episodes/", cramp(started_at="2026-11-03T03:00:00Z", timezone=zone), format="json"
    )
    assert response.status_code == 400
    assert fragment in str(response.data["timezone"])
    assert not Episode.objects.filter(user=alice).exists()


def test_a_retry_without_a_zone_is_unchanged_and_another_zone_is_a_conflict(alice_api, alice):
    body = cramp(started_at="2026-11-03T03:00:00Z", severity=4)
    first = alice_api.post("/api/v1/episodes/", body, format="json")
    again = alice_api.post("/api/v1/episodes/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data == first.data and first.data["timezone"] == LONDON
    synced = alice_api.post("/api/v1/sync/", {"records": [{"type": "episode", "data": body}]}, format="json")
    assert synced.data["results"][0]["status"] == "unchanged"

    elsewhere = alice_api.post("/api/v1/episodes/", {**body, "timezone": "Asia/Tokyo"}, format="json")
    assert elsewhere.status_code == 409 and elsewhere.data["differs"] == ["timezone"]
    assert nights_and_zones(alice) == [(date(2026, 11, 2), LONDON)]


def test_an_edited_start_time_is_read_in_the_episodes_own_zone(alice_api, alice):
    stored = post_cramp(alice_api, started_at="2026-11-03T03:00:00Z", timezone="Asia/Tokyo")
    # 02:00 UTC on the 3rd is 11:00 in Tokyo: still the night of the 2nd there.
    edited = alice_api.patch(f"/api/v1/episodes/{stored['id']}/", {"started_at": "2026-11-03T02:00:00Z"}, format="json")
    assert edited.status_code == 200, edited.data
    assert (edited.data["timezone"], edited.data["night"]) == ("Asia/Tokyo", "2026-11-02")


def test_a_fall_back_night_in_new_york_keeps_both_one_thirties_on_one_night(alice_api, alice):
    # New York turns its clocks back from 02:00 EDT to 01:00 EST on Sunday 1 November 2026: 01:30 happens twice.
    first = post_cramp(alice_api, started_at="2026-11-01T01:30:00-04:00", timezone=NEW_YORK)
    second = post_cramp(alice_api, started_at="2026-11-01T01:30:00-05:00", timezone=NEW_YORK)
    assert (first["night"], second["night"]) == ("2026-10-31", "2026-10-31")
    panel = load_panels([alice.pk], now=datetime(2026, 11, 2, 12, tzinfo=UTC))[0]
    assert dict(zip(panel.nights.tolist(), panel.cramps.tolist(), strict=True)) == {date(2026, 10, 31): 2}
    assert panel.episodes.local_hour.tolist() == [1.5, 1.5]

    # The export writes each with its own offset, so both come back as the instants they were.
    rows = exporter.table_rows(alice, "episodes.csv")
    assert [row["started_at"] for row in rows] == ["2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"]
    newcomer = make_user("newcomer@example.org", zone="UTC")
    importer.import_sources(newcomer, importer.sources_from_uploads([("export.zip", exporter.csv_zip(alice))]))
    assert list(Episode.objects.filter(user=newcomer).order_by("started_at").values_list("started_at", flat=True)) == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ]
    assert nights_and_zones(newcomer) == [(date(2026, 10, 31), NEW_YORK)] * 2


SPREADSHEET = """started_at,timezone,muscle,side
2026-10-02 03:15,America/New_York,calf,left
2026-10-02 03:15,,calf,right
2026-10-05 13:00,Australia/Sydney,foot,left
"""
CHECKINS = """date,no_cramps
2026-10-04,yes
2026-10-05,no
"""


def test_an_import_reads_each_row_on_its_own_zones_clock(alice):
    # Sydney's 13:00 on 5 October (AEDT, UTC+11) was 03:00 in London: in London's zone it would be filed on the
    # night of the 4th, contradicting the "no cramps" answer the same import gives for it.
    files = [("episodes.csv", SPREADSHEET.encode()), ("checkins.csv", CHECKINS.encode())]
    report = importer.import_sources(alice, importer.sources_from_uploads(files))
    assert report.created == {"medications": 0, "dose_changes": 0, "episodes": 3, "checkins": 2}
    rows = Episode.objects.filter(user=alice).order_by("started_at")
    assert [(e.started_at, e.timezone, e.night) for e in rows] == [
        (datetime(2026, 10, 2, 2, 15, tzinfo=UTC), LONDON, date(2026, 10, 1)),  # no zone: the profile's (BST)
        (datetime(2026, 10, 2, 7, 15, tzinfo=UTC), NEW_YORK, date(2026, 10, 1)),  # 03:15 EDT
        (datetime(2026, 10, 5, 2, 0, tzinfo=UTC), "Australia/Sydney", date(2026, 10, 5)),
    ]
    assert CheckIn.objects.get(user=alice, date=date(2026, 10, 4)).no_cramps is True


def test_an_import_with_a_bad_zone_names_its_line_and_saves_nothing(alice):
    bad = "started_at,timezone,muscle,side\n2026-10-02 03:15,Europe/Londn,calf,left\n"
    with pytest.raises(importer.ImportFailed) as failure:
        importer.import_sources(alice, importer.sources_from_uploads([("cramps.csv", bad.encode())]))
    assert "cramps.csv line 2: timezone:" in str(failure.value.messages)
    assert not Episode.objects.filter(user=alice).exists()


@pytest.fixture
def travels(alice_api, alice):
    """A diary lived in three zones, the profile now in a fourth."""
    post_cramp(alice_api, started_at="2026-10-10T02:20:00Z", severity=3)  # London
    post_cramp(alice_api, started_at="2026-10-20T03:00:00Z", timezone="Asia/Tokyo", notes="jet lag")
    post_cramp(alice_api, started_at="2026-11-01T05:30:00Z", timezone=NEW_YORK, side="right")
    alice_api.patch("/api/v1/me/", {"timezone": LOS_ANGELES}, format="json")
    return alice


def test_csv_export_round_trips_every_zone_exactly(travels):
    archive = exporter.csv_zip(travels)
    episodes_csv = zipfile.ZipFile(io.BytesIO(archive)).read("episodes.csv").decode()
    assert "2026-10-20T12:00:00+09:00,no,Asia/Tokyo," in episodes_csv  # Tokyo's clock time, with its offset
    newcomer = make_user("newcomer@example.org", zone="UTC")
    importer.import_sources(newcomer, importer.sources_from_uploads([("export.zip", archive)]))
    assert exporter.csv_files(newcomer) == exporter.csv_files(travels)
    assert nights_and_zones(newcomer) == nights_and_zones(travels)


def test_json_export_round_trips_every_zone_exactly(travels, alice_api):
    document = json.loads(alice_api.get("/api/v1/export/").content)
    newcomer = make_user("newcomer@example.org", zone="UTC")
    client = APIClient()
    client.force_authenticate(newcomer)
    upload = io.BytesIO(json.dumps(document).encode())
    upload.name = "diary.json"
    assert client.post("/api/v1/import/", {"files": [upload]}, format="multipart").status_code == 200
    assert json.loads(exporter.json_bytes(newcomer))["episodes"] == document["episodes"]
    assert nights_and_zones(newcomer) == nights_and_zones(travels)
