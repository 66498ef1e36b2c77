"""Reports never falsely reassure: a diary no analysis has read says so, and every report says
when the findings were computed, in the HTML report, the PDF and the clinician's pages."""

import io
from datetime import UTC, datetime

from django.urls import reverse
from pypdf import PdfReader

from insights.models import AnalysisState

from .conftest import make_grant, seed_diary, signed_in


def get(grant, name):
    return signed_in(grant.clinician).get(reverse(name, args=[grant.uuid]))


def pdf_text(response) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_a_diary_never_analysed_says_so_and_never_reassures(alice, dr):
    seed_diary(alice)  # three months of cramps that no analysis has looked at yet
    grant = make_grant(alice, dr)
    report = get(grant, "clinician-report").content.decode()
    pdf = pdf_text(get(grant, "clinician-report-pdf"))
    for text in (report, pdf):
        assert "Not analysed yet" in text
        assert "No current red flags" not in text and "No possible patterns" not in text
    assert "Not analysed yet" in get(grant, "clinician-patient").content.decode()
    assert "not analysed yet" in signed_in(dr).get(reverse("clinician-dashboard")).content.decode()


def test_every_report_shows_when_the_diary_was_last_analysed(alice, dr):
    seed_diary(alice)
    # Analysed, with nothing to flag: only now may the report say there is nothing.
    AnalysisState.objects.create(user=alice, analysed_at=datetime(2026, 7, 1, 13, 5, tzinfo=UTC), version="test")
    grant = make_grant(alice, dr)
    report = get(grant, "clinician-report").content.decode()
    pdf = pdf_text(get(grant, "clinician-report-pdf"))
    for text in (report, pdf):
        assert "Last analysed 1 Jul 2026 14:05" in text  # in the patient's zone (London, summer time)
        assert "Not analysed yet" not in text
        assert "No current red flags or escalations" in text and "No possible patterns" in text
    assert "Last analysed 1 Jul 2026 14:05" in get(grant, "clinician-patient").content.decode()
    assert "not analysed yet" not in signed_in(dr).get(reverse("clinician-dashboard")).content.decode()
