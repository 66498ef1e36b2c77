"""What a clinician sees, in a clinician's words: a badge for every escalation up to E2, red flags with
what, where and when, no rate on too few logged nights, a headline against the baseline, and a report
on one page."""

import io
import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.models import User
from conftest import make_user
from diary import demo
from diary.localtime import local_today
from diary.models import CheckIn, Episode
from insights import refresh
from insights.models import Finding
from sharing import access
from sharing.dashboard import summaries

from .conftest import make_grant, seed_diary, signed_in

MEDICINE = re.compile("statin", re.IGNORECASE)


def get(grant, name, **params):
    response = signed_in(grant.clinician).get(reverse(name, args=[grant.uuid]), params)
    assert response.status_code == 200
    return response


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def dashboard_row(clinician, email: str) -> str:
    page = signed_in(clinician).get(reverse("clinician-dashboard")).content.decode()
    [row] = [row for row in re.findall(r"<tr.*?</tr>", page, re.DOTALL) if email in row]
    return row


def alert_row(page: str, words: str) -> str:
    [row] = [row for row in re.findall(r'<tr class="alert-.*?</tr>', page, re.DOTALL) if words in row]
    return row


def cramp(user, night, hour: int = 3, **fields) -> Episode:
    zone = user.profile.zone
    started = datetime.combine(night + timedelta(days=1), time(hour), tzinfo=zone)
    return Episode.objects.create(user=user, started_at=started, **{"muscle": "calf", "side": "left", **fields})


def day(value, today) -> str:
    """How the red flags table writes a date: the year only when it is not this year."""
    return f"{value.day} {value:%b}" + ("" if value.year == today.year else f" {value.year}")


@pytest.fixture
def statin_patient(db):
    """The demo diary: a statin started 70 nights ago raised the cramps, which R06 escalates (E2)."""
    demo.seed_demo()
    patient = User.objects.get(email=demo.PATIENT_EMAIL)
    refresh.analyse_and_store([patient.pk])
    return patient


@pytest.fixture
def flagged(statin_patient):
    """...with a swollen left calf (a DVT red flag), and dark urine then weakness on the statin."""
    patient = statin_patient
    last = local_today(patient.profile.zone) - timedelta(days=1)
    reports = {
        "calf": cramp(patient, last - timedelta(days=11), side="left", calf_swelling=True),
        "urine": cramp(patient, last - timedelta(days=19), side="both", dark_urine=True),
        "weakness": cramp(patient, last - timedelta(days=16), side="right", weakness=True),
    }
    refresh.analyse_and_store([patient.pk])
    zone = patient.profile.zone
    patient.reported = {name: e.started_at.astimezone(zone).date() for name, e in reports.items()}
    return patient


# --- 1. The dashboard ---------------------------------------------------------------------------------


def test_a_statin_escalation_at_e2_has_a_dashboard_badge_in_clinician_words(statin_patient, dr):
    escalations = Finding.objects.filter(user=statin_patient, status="escalation")
    assert [(f.rule, f.escalation) for f in escalations] == [("R06", "E2")]
    make_grant(statin_patient, dr)
    row = dashboard_row(dr, statin_patient.email)
    assert "Within 2 weeks" in row and "Cramps up after starting Atorvastatin" in row
    assert "E2" not in re.sub(r'class="[^"]*"', "", row) and "R06" not in row


def test_every_current_red_flag_has_a_dashboard_badge_with_its_side(flagged, dr):
    make_grant(flagged, dr)
    row = dashboard_row(dr, flagged.email)
    assert row.count('class="clin-flag clin-flag-E1"') == 2 and row.count('class="clin-flag clin-flag-E2"') == 1
    assert "Swollen, red or warm left calf" in row and "?DVT" in row
    assert "Dark or cola-coloured urine + new muscle weakness on Atorvastatin" in row


def test_a_dashboard_badge_never_names_a_medicine_the_grant_keeps_back(flagged, dr):
    make_grant(flagged, dr, medications=False)
    row = dashboard_row(dr, flagged.email)
    assert not MEDICINE.search(row), row
    assert "Dark or cola-coloured urine + new muscle weakness while taking a medicine (not shared with you)" in row
    assert "Cramps up after starting or increasing a medicine (not shared with you)" in row


def test_the_dashboard_applies_each_grants_scope_in_the_same_queries_for_one_patient_or_three(dr):
    patients = [make_user(f"p{i}@example.org") for i in range(3)]
    for i, patient in enumerate(patients):
        seed_diary(patient, nights=40, seed=i)
        make_grant(patient, dr, medications=i % 2 == 0)
    refresh.analyse_and_store([p.pk for p in patients])
    grants = access.active_grants(dr)
    with CaptureQueriesContext(connection) as one:
        summaries([g for g in grants if not g.medications][:1])
    with CaptureQueriesContext(connection) as three:
        rows = summaries(grants)
    assert len(three) == len(one)
    # ...and each row went through its grant's scope: the medicine only where medications are shared.
    named = {row.grant.medications: any("Atorvastatin" in f.message for f in row.findings) for row in rows}
    assert named == {True: True, False: False}


# --- 2. Red flags ------------------------------------------------------------------------------------


def test_red_flags_say_what_where_and_when_on_the_page_the_report_and_the_pdf(flagged, dr):
    grant = make_grant(flagged, dr)
    today, reported = local_today(flagged.profile.zone), flagged.reported
    calf = f"reported {day(reported['calf'], today)}"
    both = f"reported {day(reported['urine'], today)} and {day(reported['weakness'], today)}"
    for name in ("clinician-patient", "clinician-report"):
        page = get(grant, name).content.decode()
        row = alert_row(page, "Swollen, red or warm left calf")
        assert "Same day" in row and "?DVT" in row and calf in row and "Not yet" in row, name
        row = alert_row(page, "Dark or cola-coloured urine + new muscle weakness on Atorvastatin")
        assert "Same day" in row and both in row and "Not yet" in row, name
        row = alert_row(page, "Cramps up after starting Atorvastatin")
        assert "Within 2 weeks" in row and "rate ratio" in row, name
        # The patient's own instructions and the rule ids are not the clinician's words.
        assert "Don't massage" not in page and "Get medical help today" not in page, name
        table = re.search(r'<table class="clin-table alerts">.*?</table>', page, re.DOTALL).group()
        assert not re.search(r"\bE[0-3]\b|\bR\d\d", re.sub(r'class="[^"]*"', "", table)), name
    pdf = text_of(get(grant, "clinician-report-pdf").content)
    assert "Swollen, red or warm left calf" in pdf and calf in pdf
    assert "Dark or cola-coloured urine + new muscle weakness on Atorvastatin" in pdf and both in pdf

    patient = APIClient()
    patient.force_authenticate(flagged)
    assert patient.post("/api/v1/insights/red-flags/calf_swelling/acknowledge/").status_code == 201
    said = f"Yes, said so on {today:%-d %b %Y}"
    for name in ("clinician-patient", "clinician-report"):
        row = alert_row(get(grant, name).content.decode(), "Swollen, red or warm left calf")
        assert said in row and calf in row and "Same day" not in row, name
    assert said in text_of(get(grant, "clinician-report-pdf").content)


def test_red_flags_keep_back_the_medicine_when_medications_are_not_shared(flagged, dr):
    grant = make_grant(flagged, dr, medications=False)
    for name in ("clinician-patient", "clinician-report"):
        page = get(grant, name).content.decode()
        assert "Dark or cola-coloured urine + new muscle weakness while taking a medicine" in page, name
        assert not MEDICINE.search(page), name
    assert not MEDICINE.search(text_of(get(grant, "clinician-report-pdf").content))


def test_the_side_of_a_red_flag_comes_only_with_the_episodes(flagged, dr):
    grant = make_grant(flagged, dr, episodes_checkins=False)
    row = alert_row(get(grant, "clinician-patient").content.decode(), "Swollen, red or warm calf")
    assert "left" not in row and f"reported {day(flagged.reported['calf'], local_today(flagged.profile.zone))}" in row


# --- 3. Too few logged nights ------------------------------------------------------------------------


def test_a_rate_on_too_few_logged_nights_is_withheld_everywhere(alice, dr):
    last = local_today(alice.profile.zone) - timedelta(days=1)
    for nights_ago in (2, 9, 20):  # logged only on the nights with a cramp
        cramp(alice, last - timedelta(days=nights_ago))
    grant = make_grant(alice, dr)
    withheld = "logged 3 of 30 nights: too few for a rate"

    row = dashboard_row(dr, alice.email)
    assert withheld in row and "1.00" not in row
    [api_row] = signed_in(dr).get(reverse("clinician-api-patients")).json()
    assert api_row["last_30_nights"]["logged_nights"] == 3 and not api_row["last_30_nights"]["enough_logged_for_rate"]

    page = get(grant, "clinician-patient").content.decode()
    stats = page[page.index('class="clin-stats"') : page.index("timeline-title")]
    assert withheld in stats and "1.00" not in stats

    since = (last - timedelta(days=29)).isoformat()
    report = get(grant, "clinician-report", since=since, until=last.isoformat()).content.decode()
    stats = report[report.index('class="r-stats"') : report.index('class="r-weekly"')]
    assert withheld in stats and "1.00" not in stats
    assert "Cramp nights a week: logged 3 of 28 nights: too few for a rate" in report


# --- 4. The headline ---------------------------------------------------------------------------------


def test_the_headline_sets_cramp_nights_a_week_now_against_the_baseline(alice, dr):
    last = local_today(alice.profile.zone) - timedelta(days=1)
    for nights_ago in range(130):
        night = last - timedelta(days=nights_ago)
        # Every 28 nights hold four weeks: 2 cramp nights a week, and 6 in the last four weeks.
        cramp_night = night.toordinal() % 7 < (6 if nights_ago < 28 else 2)
        CheckIn.objects.create(user=alice, date=night, no_cramps=not cramp_night)
        if cramp_night:
            cramp(alice, night)
    grant = make_grant(alice, dr)
    headline = "Cramp nights: 6.0 a week now vs 2.0 at baseline, +200%"
    for name in ("clinician-patient", "clinician-report"):
        page = get(grant, name).content.decode()
        assert headline in page, name
        assert page.index(headline) < page.index("Cramps night by night" if name == "clinician-patient" else "r-stats")
    assert headline in text_of(get(grant, "clinician-report-pdf").content)

    short = make_user("short@example.org")
    for nights_ago in range(20):  # 20 of the last 28 nights logged, half of them with a cramp; nothing before
        night = last - timedelta(days=nights_ago)
        CheckIn.objects.create(user=short, date=night, no_cramps=nights_ago % 2 == 0)
        if nights_ago % 2:
            cramp(short, night)
    page = get(make_grant(short, dr), "clinician-patient").content.decode()
    assert "Cramp nights: 3.5 a week now; no baseline to compare with" in page


# --- 5. Tables, chart, one page -------------------------------------------------------------------


def test_the_findings_table_folds_the_rules_waiting_for_data_into_one_line(alice, dr):
    seed_diary(alice, nights=21, statin_nights_ago=10)
    refresh.analyse_and_store([alice.pk])
    waiting = Finding.objects.filter(user=alice, status="insufficient_data").exclude(counts__has_key="flag").count()
    assert waiting >= 3
    page = get(make_grant(alice, dr), "clinician-patient").content.decode()
    assert page.count('class="status-insufficient_data"') == 1
    assert f"Not enough data yet</strong> ({waiting} rules)" in page


def test_the_report_chart_marks_medicine_starts_only_when_medications_are_shared(statin_patient, dr, dr_other):
    chart = re.compile(r'<svg class="weekly".*?</svg>', re.DOTALL)
    shared = get(make_grant(statin_patient, dr), "clinician-report").content.decode()
    assert "Atorvastatin started" in chart.search(shared).group()
    kept_back = get(make_grant(statin_patient, dr_other, medications=False), "clinician-report").content.decode()
    assert "Atorvastatin" not in chart.search(kept_back).group() and "Atorvastatin" not in kept_back


def test_the_medicine_windows_are_labelled_as_the_finding_compares_them(statin_patient, dr):
    grant = make_grant(statin_patient, dr)
    for name in ("clinician-patient", "clinician-report"):
        page = get(grant, name).content.decode()
        assert "56 nights before" in page and "After (up to 56 nights)" in page, name
        assert ">28 nights before<" not in page and "28 nights after" not in page, name


def test_the_report_of_a_rich_diary_fits_one_pdf_page(flagged, dr):
    grant = make_grant(flagged, dr)
    last = local_today(flagged.profile.zone) - timedelta(days=1)
    response = get(grant, "clinician-report-pdf", since=(last - timedelta(days=89)).isoformat(), until=last)
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = text_of(response.content)
    assert "Swollen, red or warm left calf" in text and "Cramps up after starting Atorvastatin" in text
    assert "Cramp nights:" in text and "Findings" in text
