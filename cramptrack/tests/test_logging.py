"""Structured logs: one JSON object per line, each with the request id the response echoes,
and no health data (notes, medicine names, field values) in any line, even for bad input."""

import io
import json
import logging
import re
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings

NOTES = "Quokka-ankle-secret-notes"
MEDICINE = "Zorbaxitrazine"
DOSE = "17 mg quokkamol"
BAD_NOTES = "Xylophone-calf-confession"
CHECKIN_NOTES = "Marmalade-fluids-diary"
CSV_NOTES = "Pelican-import-private"
DISTINCTIVE = (NOTES, MEDICINE, DOSE, BAD_NOTES, CHECKIN_NOTES, CSV_NOTES, "quokka", "Quokka")


@pytest.fixture
def log_output():
    """The configured console handler (settings.LOGGING), writing into a buffer, everything at DEBUG."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if h.name == "console")
    buffer = io.StringIO()
    previous_stream, previous_level = handler.setStream(buffer), root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(previous_level)
    handler.setStream(previous_stream)


def records(buffer) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_logs_are_json_lines_with_the_request_id(client, alice, log_output):
    assert settings.LOG_FORMAT == "json"
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    lines = records(log_output)
    not_found = [line for line in lines if line["message"].startswith("Not Found")]
    assert not_found and not_found[0]["request_id"] == request_id
    assert {"time", "level", "logger", "message"} <= set(not_found[0])


def test_a_sane_incoming_request_id_is_kept_and_anything_else_replaced(client):
    given = str(uuid.uuid4())
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    for bad in ("abc", "x" * 500, "<script>alert(1)</script>", f"{given}\nforged: line"):
        echoed = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_no_health_data_reaches_the_logs(alice_api, log_output):
    episode = {
        "id": str(uuid.uuid4()),
        "started_at": "2026-11-03T03:10:00+00:00",
        "muscle": "calf",
        "side": "left",
        "severity": 7,
        "notes": NOTES,
    }
    assert alice_api.post("/api/v1/episodes/", episode, format="json").status_code == 201
    medicine = {
        "id": str(uuid.uuid4()),
        "name": MEDICINE,
        "dose": DOSE,
        "drug_class": "statin",
        "started_on": "2026-09-01",
    }
    assert alice_api.post("/api/v1/medications/", medicine, format="json").status_code == 201
    checkin = {"date": "2026-11-02", "no_cramps": False, "notes": CHECKIN_NOTES}
    assert alice_api.post("/api/v1/checkins/", checkin, format="json").status_code in (200, 201)
    # Failing validation: the 400 is logged ("Bad Request"), its body and field values are not.
    bad = {**episode, "id": str(uuid.uuid4()), "severity": 99, "muscle": MEDICINE, "notes": BAD_NOTES}
    refused = alice_api.post("/api/v1/episodes/", bad, format="json")
    assert refused.status_code == 400
    bad_sync = {"records": [{"type": "episode", "data": {**bad, "id": str(uuid.uuid4())}}]}
    assert alice_api.post("/api/v1/sync/", bad_sync, format="json").status_code == 200
    csv = f"started_at,muscle,side,severity,notes\n2026-11-03 03:10,{MEDICINE},left,42,{CSV_NOTES}\n"
    upload = io.BytesIO(csv.encode())
    upload.name = "episodes.csv"
    assert alice_api.post("/api/v1/import/", {"files": [upload]}, format="multipart").status_code == 400
    assert alice_api.get("/api/v1/export/").status_code == 200

    output = log_output.getvalue()
    lines = records(log_output)
    # The capture works: the refused requests were logged, with the request's id.
    warnings = [line for line in lines if line["message"].startswith("Bad Request: /api/v1/episodes/")]
    assert warnings and warnings[0]["request_id"] == refused["X-Request-ID"]
    for text in DISTINCTIVE:
        assert text not in output, f"{text!r} was logged"


def test_a_database_error_in_a_traceback_does_not_log_the_row(alice, log_output):
    """PostgreSQL quotes the failing row (notes and all) in its DETAIL; the log keeps the rest."""
    from django.db import IntegrityError, transaction

    from diary.models import Episode

    secret = "Hedgehog-private-cramp-notes"
    try:
        with transaction.atomic():
            Episode.objects.create(
                user=alice,
                started_at=datetime(2026, 11, 3, 3, 10, tzinfo=UTC),
                muscle="calf",
                side="left",
                severity=99,
                notes=secret,
            )
    except IntegrityError:
        logging.getLogger("django.request").error("Internal Server Error: /api/v1/episodes/", exc_info=True)
    else:
        pytest.fail("the check constraint did not fire")
    lines = records(log_output)
    error = next(line for line in lines if line["message"].startswith("Internal Server Error"))
    assert "episode_severity_0_10" in error["exc_info"]  # the useful part stays
    assert "Traceback" in error["exc_info"]
    assert secret not in log_output.getvalue()
