"""The import's preview (a dry run: the import itself, counted and rolled back) and the
Cluster Headache Tracker export read into the diary."""

import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from diary import exporter
from diary.models import CheckIn, Episode

pytestmark = pytest.mark.django_db

# Cluster Headache Tracker's export: its CSV_HEADERS, local times, intensity 1-10.
CHT_EXPORT = (
    "start_time,end_time,intensity,medication,triggers,notes,barometric_pressure\n"
    "2026-03-02 23:00:00,2026-03-03 00:15:00,8,oxygen,Alcohol,Night attack,1008.5\n"
    "2026-03-01 08:00:00,2026-03-01 10:30:00,7,sumatriptan,Lack of sleep,Morning attack,\n"
    "2026-03-04 15:30:00,,6,,,,\n"
)


def upload(name: str, content: str | bytes) -> io.BytesIO:
    handle = io.BytesIO(content.encode() if isinstance(content, str) else content)
    handle.name = name
    return handle


def post(api, *files, **fields):
    return api.post("/api/v1/import/", {"files": list(files), **fields}, format="multipart")


def test_a_dry_run_counts_what_would_be_created_and_saves_nothing(alice_api, alice):
    CheckIn.objects.create(user=alice, date="2026-10-01", stress=3)
    sheet = "date,stress\n2026-10-01,3\n2026-10-02,4\n"
    cramps = "started_at,muscle,side\n2026-10-02T02:10,calf,left\n"
    response = post(alice_api, upload("checkins.csv", sheet), upload("cramps.csv", cramps), dry_run="true")
    assert response.status_code == 200, response.data
    assert response.data["dry_run"] is True
    assert response.data["created"] == {"medications": 0, "dose_changes": 0, "episodes": 1, "checkins": 1}
    assert response.data["unchanged"]["checkins"] == 1
    assert Episode.objects.count() == 0 and CheckIn.objects.count() == 1

    response = post(alice_api, upload("checkins.csv", sheet), upload("cramps.csv", cramps))
    assert response.data["created"]["episodes"] == 1 and response.data["dry_run"] is False
    assert Episode.objects.count() == 1 and CheckIn.objects.count() == 2


def test_a_dry_run_lists_every_bad_line(alice_api):
    sheet = "started_at,muscle,side,severity\n2026-10-02T02:10,calf,left,4\n2026-10-03T02:10,elbow,left,4\n"
    sheet += "2026-10-04T02:10,calf,up,11\n"
    response = post(alice_api, upload("cramps.csv", sheet), dry_run="true")
    assert response.status_code == 400
    errors = response.data["errors"]
    assert any(e.startswith("cramps.csv line 3: muscle:") for e in errors), errors
    assert any(e.startswith("cramps.csv line 4: side:") for e in errors), errors
    assert any(e.startswith("cramps.csv line 4: severity:") for e in errors), errors
    assert Episode.objects.count() == 0


def test_a_bad_row_with_a_note_over_several_lines_is_reported_at_its_first_line(alice_api):
    sheet = 'started_at,muscle,side,notes\n2026-10-02T02:10,calf,left,"woke me\r\nthen again\nat 4"\n'
    sheet += '2026-10-03T02:10,elbow,left,"one\ntwo"\n2026-10-04T02:10,calf,up,\n'
    response = post(alice_api, upload("cramps.csv", sheet), dry_run="true")
    assert response.status_code == 400
    errors = response.data["errors"]
    assert [e.split(":")[0] for e in errors] == ["cramps.csv line 5", "cramps.csv line 7"], errors


def test_a_cluster_headache_tracker_export_becomes_episodes_once(alice_api, alice):
    response = post(alice_api, upload("headache_logs.csv", CHT_EXPORT), dry_run="1")
    assert response.status_code == 200, response.data
    assert response.data["apps"] == {"Cluster Headache Tracker": 3}
    assert response.data["created"]["episodes"] == 3 and Episode.objects.count() == 0

    response = post(alice_api, upload("headache_logs.csv", CHT_EXPORT), muscle="calf", side="right")
    assert response.status_code == 200, response.data
    rows = list(Episode.objects.filter(user=alice).order_by("started_at"))
    london = ZoneInfo("Europe/London")  # local clock times, in the profile's zone
    assert [r.started_at.astimezone(london).replace(tzinfo=None) for r in rows] == [
        datetime(2026, 3, 1, 8, 0),
        datetime(2026, 3, 2, 23, 0),
        datetime(2026, 3, 4, 15, 30),
    ]
    assert {(r.muscle, r.side) for r in rows} == {("calf", "right")}
    morning, night, afternoon = rows
    assert (night.severity, night.duration_minutes) == (8, Decimal("75"))
    assert "Medication: oxygen" in night.notes and "Triggers: Alcohol" in night.notes
    assert "Night attack" in night.notes and "1008.5 hPa" in night.notes
    assert morning.duration_minutes == Decimal("150")
    assert afternoon.duration_minutes is None and afternoon.severity == 6

    again = post(alice_api, upload("headache_logs.csv", CHT_EXPORT), muscle="calf", side="right")
    assert again.data["unchanged"]["episodes"] == 3 and Episode.objects.count() == 3
    assert "Imported from Cluster Headache Tracker." in exporter.csv_files(alice)["episodes.csv"]


def test_a_bad_cluster_headache_tracker_line_is_named_and_nothing_is_saved(alice_api):
    sheet = CHT_EXPORT + "2026-03-05 01:00:00,2026-03-05 01:40:00,12,,,,\nnot a time,,5,,,,\n"
    response = post(alice_api, upload("headache_logs.csv", sheet))
    assert response.status_code == 400
    errors = response.data["errors"]
    assert any(e.startswith("headache_logs.csv line 5: severity:") for e in errors), errors
    assert any(e.startswith("headache_logs.csv line 6: started_at:") for e in errors), errors
    assert Episode.objects.count() == 0


def test_a_leg_that_is_not_a_choice_is_a_400_with_the_field(alice_api):
    response = post(alice_api, upload("headache_logs.csv", CHT_EXPORT), muscle="elbow")
    assert response.status_code == 400 and "muscle" in response.data
    assert Episode.objects.count() == 0
