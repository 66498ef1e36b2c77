"""A grant that leaves medications out shows every finding, but never the medicine."""

import io
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from conftest import make_user
from diary.localtime import local_today
from diary.models import Episode
from insights import refresh
from insights.models import Finding

from .conftest import make_grant, seed_diary, signed_in

MEDICINE = re.compile("atorvastatin|statin", re.IGNORECASE)


@pytest.fixture
def patient(db):
    person = make_user("pat@example.org")
    seed_diary(person, nights=100, statin_nights_ago=40)
    Episode.objects.create(
        user=person,
        started_at=datetime.combine(local_today(person.profile.zone), datetime.min.time(), tzinfo=person.profile.zone)
        + timedelta(hours=3),
        muscle="calf",
        side="left",
        dark_urine=True,
        weakness=True,
    )
    refresh.analyse_and_store([person.pk])
    messages = " ".join(Finding.objects.filter(user=person).values_list("message", flat=True))
    assert "Atorvastatin" in messages, "the patient's own findings name the medicine"
    return person


def everything_the_clinician_reads(grant) -> str:
    client = signed_in(grant.clinician)
    api = client.get(reverse("clinician-api-findings", args=[grant.uuid]))
    assert api.status_code == 200
    pages = [client.get(reverse(name, args=[grant.uuid])) for name in ("clinician-patient", "clinician-report")]
    pdf = client.get(reverse("clinician-report-pdf", args=[grant.uuid]))
    assert all(page.status_code == 200 for page in [*pages, pdf])
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    return "\n".join([api.content.decode(), *(page.content.decode() for page in pages), pdf_text])


def test_a_grant_without_medications_shows_the_findings_but_not_the_medicine(patient, dr):
    text = everything_the_clinician_reads(make_grant(patient, dr, medications=False))
    found = MEDICINE.search(text)
    assert not found, text[max(0, found.start() - 300) : found.end() + 100]
    assert "dark or cola-coloured urine" in text  # the red flag itself is still there
    assert "a medicine (not shared with you)" in text


def test_a_grant_with_medications_names_them(patient, dr):
    text = everything_the_clinician_reads(make_grant(patient, dr, medications=True))
    assert "Atorvastatin" in text
