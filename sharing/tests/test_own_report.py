"""The patient's own one-page report for their doctor, from "You": the clinician's report,
with everything in it (their own medicine names too), and no access-log row."""

import io

from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from sharing.models import AccessLog

from .conftest import make_clinician, signed_in

URL = reverse("sharing-own-report-pdf")


def own_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_patients_own_report_is_one_page_with_their_findings_and_red_flags(diary):
    response = own_client(diary).get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="cramptrack-report-')
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Leg-cramp diary report" in text and diary.email in text
    assert "Swollen, red or warm calf" in text  # the red flag, in a clinician's words
    assert "Cramps per week against baseline" in text
    assert "Findings" in text and "R06" in text  # the possible pattern after the statin
    assert "Atorvastatin" in text  # their own medicine, by name
    assert "printed by the patient" in text and "shared read-only" not in text
    assert AccessLog.objects.count() == 0


def test_a_bad_range_is_a_400(diary):
    response = own_client(diary).get(URL, {"since": "2026-05-01", "until": "2026-04-01"})
    assert response.status_code == 400
    assert b"start is after the end" in response.content


def test_only_a_signed_in_patient_gets_one(diary):
    assert Client().get(URL).status_code == 302  # to the log-in page
    response = signed_in(make_clinician("dr.jones@clinic.example")).get(URL)
    assert response.status_code == 302 and response["Location"] == reverse("clinician-dashboard")
