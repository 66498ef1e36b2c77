"""What the clinician sees: scope and notes, the dashboard order, the report (HTML, PDF), CSV and FHIR."""

import csv
import io
import json
import re
import zipfile
from datetime import datetime, time, timedelta

import pydantic
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from conftest import make_user
from diary import choices
from diary.localtime import local_today
from diary.models import CHECKLIST_FIELDS, CheckIn, DoseChange, Episode, MedicationCourse
from insights import refresh
from sharing import fhir
from sharing.models import AccessLog, Grant

from .conftest import make_grant, seed_diary, seed_findings, signed_in
from .fhir_r4 import InvalidFhir, validate

NOTE = "PRIVATE-NOTE"


def alert_row(page: str, words: str) -> str:
    """The row of the red flags table that holds `words`."""
    [row] = [row for row in re.findall(r"<tr class=\"alert-.*?</tr>", page, re.DOTALL) if words in row]
    return row


def get(grant, name, **params):
    return signed_in(grant.clinician).get(reverse(name, args=[grant.uuid]), params)


def fhir_export(grant) -> dict:
    """The FHIR export as the clinician downloads it, once it has passed as a valid R4 Bundle."""
    response = get(grant, "clinician-export-fhir")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    document = response.json()
    validate(document)
    return document


# --- Scope and notes ---------------------------------------------------------------------------


def test_notes_stay_hidden_unless_shared(grant):
    assert not grant.notes
    assert NOTE not in get(grant, "clinician-patient").content.decode()
    episodes = get(grant, "clinician-api-episodes").json()["results"]
    assert episodes and all("notes" not in row for row in episodes)
    meds = get(grant, "clinician-api-medications").json()["results"]
    assert meds and all("notes" not in row for row in meds)
    assert all("notes" not in row for row in get(grant, "clinician-api-checkins").json()["results"])
    archive = zipfile.ZipFile(io.BytesIO(get(grant, "clinician-export-csv").content))
    assert NOTE.encode() not in b"".join(archive.read(name) for name in archive.namelist())
    assert "notes" not in next(csv.reader(io.StringIO(archive.read("episodes.csv").decode())))
    assert NOTE not in json.dumps(fhir_export(grant))


def test_notes_appear_when_shared(grant):
    Grant.objects.filter(pk=grant.pk).update(notes=True)
    assert NOTE in get(grant, "clinician-patient").content.decode()
    assert any(NOTE in row["notes"] for row in get(grant, "clinician-api-episodes").json()["results"])
    assert NOTE in json.dumps(fhir_export(grant))


def test_parts_left_out_of_the_scope_are_404s_and_absent(diary, dr):
    grant = make_grant(diary, dr, episodes_checkins=False, insights=False, medications=True)
    for name in ("clinician-api-episodes", "clinician-api-checkins", "clinician-api-findings"):
        assert get(grant, name).status_code == 404
    assert get(grant, "clinician-api-medications").status_code == 200
    page = get(grant, "clinician-patient").content.decode()
    assert "Cramps night by night" not in page and "Findings" not in page and "Atorvastatin" in page
    bundle = fhir_export(grant)
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {"Patient", "MedicationStatement"}
    assert zipfile.ZipFile(io.BytesIO(get(grant, "clinician-export-csv").content)).namelist() == [
        "medications.csv",
        "dose_changes.csv",
    ]
    patients = signed_in(dr).get(reverse("clinician-api-patients")).json()
    assert patients[0]["red_flags"] is None and patients[0]["last_30_nights"] is None


def test_the_api_reads_filter_and_paginate_like_the_diary_api(grant):
    last_week = (timezone.now() - timedelta(days=7)).date().isoformat()
    response = get(grant, "clinician-api-episodes", since=last_week, muscle="calf")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and all(r["night"] >= last_week and r["muscle"] == "calf" for r in rows)
    assert AccessLog.objects.get().detail.startswith("since=")
    findings = get(grant, "clinician-api-findings").json()
    assert [f["rule"] for f in findings] == ["R13", "R06", "R03"]
    assert findings[1]["interval"] == [1.05, 2.95] and findings[1]["counts"]["nights_exposed"] == 34


# --- Dashboard --------------------------------------------------------------------------------


def test_the_dashboard_puts_red_flags_first_then_worsening(dr):
    calm = make_user("calm@example.org")
    seed_diary(calm, nights=70, seed=1)
    worse = make_user("worse@example.org")
    seed_diary(worse, nights=70, seed=2)
    Finding = __import__("insights.models", fromlist=["Finding"]).Finding
    Finding.objects.create(
        user=worse,
        key="R07",
        rule="R07",
        trigger="pat_frequent_severe",
        status="escalation",
        escalation="E2",
        rank=2,
        message="more frequent",
        analysis_version="t",
        analysed_at=timezone.now(),
    )
    flagged = make_user("flagged@example.org")
    seed_diary(flagged, nights=70, seed=3)
    seed_findings(flagged)
    for patient in (calm, worse, flagged):
        make_grant(patient, dr)
    rows = signed_in(dr).get(reverse("clinician-api-patients")).json()
    assert [r["email"] for r in rows] == ["flagged@example.org", "worse@example.org", "calm@example.org"]
    assert rows[0]["red_flags"] == 1 and rows[1]["worsening"] is True
    recent = rows[2]["last_30_nights"]
    assert recent["nights"] == 30 and recent["logged_nights"] <= 30
    page = signed_in(dr).get(reverse("clinician-dashboard")).content.decode()
    assert page.index("flagged@example.org") < page.index("worse@example.org") < page.index("calm@example.org")
    assert page.count("<polyline") >= 3  # a sparkline each
    assert AccessLog.objects.filter(what="dashboard").count() == 3


# --- Report ---------------------------------------------------------------------------------


def test_the_report_covers_the_chosen_range(grant):
    until = (timezone.now() - timedelta(days=2)).date()
    since = until - timedelta(days=27)
    response = get(grant, "clinician-report", since=since.isoformat(), until=until.isoformat())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cramps per week against baseline" in page and "Swollen, red or warm calf" in page and "Atorvastatin" in page
    assert page.count('<th scope="row">Week of</th>') == 1
    assert AccessLog.objects.get().detail == f"{since.isoformat()}..{until.isoformat()}"


@pytest.mark.parametrize(
    "params",
    [{"since": "2026-05-01", "until": "2026-04-01"}, {"since": "2024-01-01", "until": "2026-01-01"}, {"since": "x"}],
)
def test_a_bad_report_range_is_a_400_and_not_logged(grant, params):
    assert get(grant, "clinician-report", **params).status_code == 400
    assert get(grant, "clinician-report-pdf", **params).status_code == 400
    assert AccessLog.objects.count() == 0


def test_the_pdf_report_is_one_page_for_three_months(grant):
    response = get(grant, "clinician-report-pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Leg-cramp diary report" in text and grant.patient.email in text and "Swollen, red or warm calf" in text
    assert AccessLog.objects.get().what == "report_pdf"


# --- FHIR and CSV ----------------------------------------------------------------------------


def test_the_fhir_export_is_a_valid_r4_bundle(grant):
    Grant.objects.filter(pk=grant.pk).update(notes=True)
    document = fhir_export(grant)
    assert validate(document).type == "collection"  # fhir.resources 6.4: the FHIR 4.0.1 (R4) models
    kinds = [e["resource"]["resourceType"] for e in document["entry"]]
    assert kinds[0] == "Patient" and kinds.count("MedicationStatement") == 1
    observations = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Observation"]
    cramps = [o for o in observations if "valueCodeableConcept" not in o]
    assert len(cramps) == grant.patient.episodes.count()
    first = cramps[0]
    assert first["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "449917004",
        "display": "Leg cramp",
    }
    assert first["subject"]["reference"] == document["entry"][0]["fullUrl"]
    assert first["effectiveDateTime"].endswith(("+00:00", "+01:00"))  # the patient's own clock, with its offset
    components = {c["code"]["coding"][0]["code"]: c for c in first["component"]}
    assert components["103335007"]["valueQuantity"]["code"] == "min"
    assert 0 <= components["72514-3"]["valueQuantity"]["value"] <= 10
    statement = next(e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "MedicationStatement")
    assert statement["status"] == "active" and statement["medicationCodeableConcept"]["coding"][0]["code"] == "C10AA"


def test_the_fhir_export_states_cramp_free_nights_and_leaves_missing_ones_out(grant):
    patient = grant.patient
    answered_none = CheckIn.objects.filter(user=patient, no_cramps=True)
    assert answered_none.exists() and CheckIn.objects.filter(user=patient).exclude(no_cramps=True).exists()
    document = fhir_export(grant)
    nights = [
        e["resource"]
        for e in document["entry"]
        if e["resource"]["resourceType"] == "Observation" and "valueCodeableConcept" in e["resource"]
    ]
    assert sorted(n["id"] for n in nights) == sorted(str(u) for u in answered_none.values_list("uuid", flat=True))
    assert all(n["valueCodeableConcept"]["coding"][0]["code"] == "373067005" for n in nights)  # SNOMED "No"
    night = answered_none.order_by("date").first()
    stated = next(n for n in nights if n["id"] == str(night.uuid))
    # The night of D runs from D 12:00 to D+1 12:00 on the patient's own clock.
    assert stated["effectivePeriod"]["start"].startswith(f"{night.date.isoformat()}T12:00:00")
    assert stated["effectivePeriod"]["end"].startswith(f"{(night.date + timedelta(days=1)).isoformat()}T12:00:00")


def test_every_kind_of_diary_row_exports_as_valid_r4(alice, dr):
    """Each branch of the exporter at least once: every muscle, side and checklist flag, an
    approximate time, a cramp with no details, notes, every medicine class, a stopped course,
    and a patient with a name, each sex and a birth year."""
    alice.first_name, alice.last_name = "Alice", "Example"
    alice.save()
    alice.profile.birth_year = 1956
    alice.profile.save()
    zone = alice.profile.zone
    night = local_today(zone) - timedelta(days=30)
    for i, (muscle, side) in enumerate(zip(choices.Muscle.values, [*choices.Side.values] * 3, strict=False)):
        started = datetime.combine(night + timedelta(days=i + 1), time(3), tzinfo=zone)
        Episode.objects.create(
            user=alice, started_at=started, muscle=muscle, side=side, severity=i, duration_minutes=i + 0.5
        )
    flagged = datetime.combine(night, time(23), tzinfo=zone)
    every_flag = dict.fromkeys(CHECKLIST_FIELDS, True)
    Episode.objects.create(user=alice, started_at=flagged, muscle="calf", side="left", **every_flag, notes=NOTE)
    Episode.objects.create(user=alice, started_at=flagged, muscle="other", side="both", time_approximate=True)
    CheckIn.objects.create(user=alice, date=night - timedelta(days=1), no_cramps=True)
    for i, drug_class in enumerate(choices.DrugClass.values):
        started_on = night - timedelta(days=i)
        stopped_on = started_on + timedelta(days=3) if i % 2 else None
        MedicationCourse.objects.create(
            user=alice, name=drug_class, drug_class=drug_class, started_on=started_on, stopped_on=stopped_on
        )
    lisinopril = MedicationCourse.objects.create(
        user=alice, name="Lisinopril", drug_class="other_medicine", dose="10 mg", started_on=night, notes=NOTE
    )
    DoseChange.objects.create(course=lisinopril, changed_on=night + timedelta(days=2), direction="other")
    grant = make_grant(alice, dr, notes=True)

    for sex in [*choices.Sex.values, ""]:
        alice.profile.sex = sex
        alice.profile.save()
        document = fhir_export(grant)
        assert document["entry"][0]["resource"].get("gender", "") == sex
    resources = [entry["resource"] for entry in document["entry"]]
    kinds = [resource["resourceType"] for resource in resources]
    assert kinds.count("Observation") == len(choices.Muscle.values) + 3
    assert kinds.count("MedicationStatement") == len(choices.DrugClass.values) + 2  # Lisinopril's two doses
    assert {r["status"] for r in resources if r["resourceType"] == "MedicationStatement"} == {"active", "completed"}
    assert resources[0]["name"] == [{"text": "Alice Example"}] and resources[0]["birthDate"] == "1956"
    assert json.dumps(document).count(NOTE) == 3  # the cramp's, and the course's on each of its doses


@pytest.mark.parametrize(
    "change, error",
    [
        ({"status": "done"}, InvalidFhir),  # outside R4's required ObservationStatus codes
        ({"valueInteger": "severe"}, pydantic.ValidationError),  # wrong datatype
        ({"valueInteger": 3, "valueString": "also"}, pydantic.ValidationError),  # two value[x] at once
        ({"subject": {"reference": "urn:uuid:0"}}, InvalidFhir),  # a reference to nothing in the bundle
        ({"severity": 3}, pydantic.ValidationError),  # no such element in R4
        ({"code": None}, pydantic.ValidationError),  # Observation.code is 1..1
    ],
)
def test_the_fhir_validator_really_refuses_what_r4_refuses(grant, change, error):
    document = fhir.bundle(grant)
    resource = document["entry"][1]["resource"]
    assert resource["resourceType"] == "Observation"
    validate(document)
    resource.update(change)
    if change.get("code", 1) is None:
        del resource["code"]
    with pytest.raises(error):
        validate(document)


def resources_of(document, kind: str) -> list[dict]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


def cramp_at(patient, days_ago: int, **fields) -> Episode:
    zone = patient.profile.zone
    started = datetime.combine(local_today(zone) - timedelta(days=days_ago), time(3), tzinfo=zone)
    return Episode.objects.create(user=patient, started_at=started, **{"muscle": "calf", "side": "left", **fields})


def observation_of(document, episode) -> dict:
    [observation] = [o for o in resources_of(document, "Observation") if o["id"] == str(episode.uuid)]
    return observation


def test_fhir_severity_is_a_loinc_pain_score_with_its_unit(alice, dr):
    rated = cramp_at(alice, 2, severity=7)
    unrated = cramp_at(alice, 1)
    document = fhir_export(make_grant(alice, dr))
    observation = observation_of(document, rated)
    assert not [key for key in observation if key.startswith("value")]  # the cramp is the finding, not a score
    [severity] = [c for c in observation["component"] if c["code"]["coding"][0]["system"] == "http://loinc.org"]
    assert severity["code"]["coding"][0]["code"] == "72514-3"
    assert severity["valueQuantity"] == {
        "value": 7,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert "component" not in observation_of(document, unrated)


@pytest.mark.parametrize(
    "muscle, side, expression",
    [
        ("calf", "left", "53840002:272741003=7771000"),
        ("foot", "right", "56459004:272741003=24028007"),
        ("hamstring", "both", "68367000:272741003=51440002"),
        ("other", "left", None),  # no structure to refine: the words alone
    ],
)
def test_fhir_laterality_qualifies_the_body_site(alice, dr, muscle, side, expression):
    episode = cramp_at(alice, 1, muscle=muscle, side=side)
    observation = observation_of(fhir_export(make_grant(alice, dr)), episode)
    codings = observation["bodySite"].get("coding", [])
    assert [c["code"] for c in codings] == ([expression] if expression else [])
    assert all(c["system"] == "http://snomed.info/sct" for c in codings)
    assert observation["bodySite"]["text"].startswith(side.capitalize())
    assert "272741003" not in json.dumps(observation.get("component", []))  # not a component any more


def test_every_fhir_observation_is_a_patient_reported_survey(grant):
    observations = resources_of(fhir_export(grant), "Observation")
    assert {"valueCodeableConcept" in o for o in observations} == {True, False}  # cramps and cramp-free nights
    survey = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    assert all([{k: c[k] for k in survey} for c in o["category"][0]["coding"]] == [survey] for o in observations)


def test_fhir_red_flags_are_snomed_findings_or_codes_the_site_explains(alice, dr, client):
    episode = cramp_at(alice, 1, **dict.fromkeys(CHECKLIST_FIELDS, True))
    document = fhir_export(make_grant(alice, dr))
    flags = {c["code"]["text"]: c for c in observation_of(document, episode)["component"]}
    assert all(c["valueBoolean"] is True for c in flags.values()) and len(flags) == len(CHECKLIST_FIELDS)
    assert flags["Weakness"]["code"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "26544005", "display": "Muscle weakness"}
    ]
    assert flags["Dark urine"]["code"]["coding"][0]["code"] == "39575007"
    assert "urn:cramptrack" not in json.dumps(document)
    local = {
        c["code"]["coding"][0]["code"]: c["code"]["coding"][0]
        for c in flags.values()
        if c["code"]["coding"][0]["system"] != "http://snomed.info/sct"
    }
    assert "breathless_chest_pain" in local and "calf_swelling" in local
    url = f"{settings.SITE_URL}{reverse('fhir-code-system')}"
    assert {coding["system"] for coding in local.values()} == {url}
    # The code system's URL answers, to anyone, with a valid R4 CodeSystem holding every code used.
    response = client.get(reverse("fhir-code-system"))
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    code_system = response.json()
    assert validate(code_system).url == url
    assert {c["code"]: c["display"] for c in code_system["concept"]} == {
        code: coding["display"] for code, coding in local.items()
    }


@pytest.mark.parametrize(
    "name, drug_class, atc",
    [
        ("Bendroflumethiazide", "thiazide_diuretic", "C03A"),
        ("Indapamide", "thiazide_diuretic", "C03B"),  # thiazide-like: another ATC group
        ("Water tablet", "thiazide_diuretic", "C03"),  # a diuretic, which group the name does not say
        ("Simvastatin", "statin", "C10AA"),
        ("Lisinopril", "other_medicine", None),
    ],
)
def test_fhir_medicines_carry_their_atc_class_and_their_name(alice, dr, name, drug_class, atc):
    MedicationCourse.objects.create(
        user=alice, name=name, drug_class=drug_class, started_on=local_today(alice.profile.zone)
    )
    [statement] = resources_of(fhir_export(make_grant(alice, dr)), "MedicationStatement")
    medicine = statement["medicationCodeableConcept"]
    assert medicine["text"] == name
    assert [(c["system"], c["code"]) for c in medicine.get("coding", [])] == (
        [("http://www.whocc.no/atc", atc)] if atc else []
    )


def test_fhir_exports_each_dose_of_a_course_as_its_own_period(alice, dr):
    today = local_today(alice.profile.zone)
    start = today - timedelta(days=60)
    course = MedicationCourse.objects.create(
        user=alice, name="Simvastatin", drug_class="statin", dose="20 mg", started_on=start
    )
    up = DoseChange.objects.create(
        course=course, changed_on=start + timedelta(days=20), direction="increase", dose="40 mg"
    )
    down = DoseChange.objects.create(
        course=course, changed_on=start + timedelta(days=40), direction="decrease", dose=""
    )
    grant = make_grant(alice, dr)
    statements = resources_of(fhir_export(grant), "MedicationStatement")
    assert [(s["id"], s["effectivePeriod"], s["status"], s.get("dosage")) for s in statements] == [
        (
            str(course.uuid),
            {"start": start.isoformat(), "end": up.changed_on.isoformat()},
            "completed",
            [{"text": "20 mg"}],
        ),
        (
            str(up.uuid),
            {"start": up.changed_on.isoformat(), "end": down.changed_on.isoformat()},
            "completed",
            [{"text": "40 mg"}],
        ),
        (str(down.uuid), {"start": down.changed_on.isoformat()}, "active", None),
    ]
    assert statements[0]["statusReason"] == [{"text": f"Dose increased on {up.changed_on.isoformat()}"}]
    assert statements[1]["statusReason"] == [{"text": f"Dose decreased on {down.changed_on.isoformat()}"}]
    assert {s["medicationCodeableConcept"]["text"] for s in statements} == {"Simvastatin"}

    # A stop ends the last dose; a change after the stop starts nothing.
    MedicationCourse.objects.filter(pk=course.pk).update(stopped_on=today - timedelta(days=5))
    DoseChange.objects.create(course=course, changed_on=today, direction="increase", dose="80 mg")
    document = fhir_export(grant)
    statements = resources_of(document, "MedicationStatement")
    assert len(statements) == 3 and "80 mg" not in json.dumps(document)
    assert statements[-1]["effectivePeriod"]["end"] == (today - timedelta(days=5)).isoformat()
    assert statements[-1]["status"] == "completed"


def test_fhir_leaves_medicines_and_their_doses_out_unless_shared(alice, dr):
    course = MedicationCourse.objects.create(
        user=alice, name="Simvastatin", drug_class="statin", dose="20 mg", started_on=local_today(alice.profile.zone)
    )
    DoseChange.objects.create(course=course, changed_on=course.started_on, direction="increase", dose="40 mg")
    cramp_at(alice, 1)
    document = fhir_export(make_grant(alice, dr, medications=False))
    assert {r["resourceType"] for r in (e["resource"] for e in document["entry"])} == {"Patient", "Observation"}
    assert "Simvastatin" not in json.dumps(document) and "40 mg" not in json.dumps(document)


def test_the_fhir_patient_keeps_one_id_per_patient_and_clinician(alice, dr, dr_other):
    cramp_at(alice, 1)
    first = make_grant(alice, dr)
    before = fhir_export(first)["entry"][0]
    Grant.objects.filter(pk=first.pk).update(revoked_at=timezone.now())
    again = make_grant(alice, dr)  # shared again, with the same clinician
    after = fhir_export(again)
    assert again.uuid != first.uuid
    assert after["entry"][0] == before
    patient = before["resource"]
    assert [i["value"] for i in patient["identifier"]] == [patient["id"]]
    assert before["fullUrl"] == f"urn:uuid:{patient['id']}"
    assert {o["subject"]["reference"] for o in resources_of(after, "Observation")} == {before["fullUrl"]}
    # Nothing a reader could trace back: not the share, the user id or the email.
    assert patient["id"] not in (str(first.uuid), str(again.uuid), str(alice.pk)) and "alice" not in patient["id"]
    # Another clinician gets another id, so two clinicians cannot link their copies by it.
    other = fhir_export(make_grant(alice, dr_other))["entry"][0]["resource"]
    assert other["id"] != patient["id"]


def test_the_csv_export_is_the_diary_format_for_the_shared_tables(grant):
    response = get(grant, "clinician-export-csv")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["checkins.csv", "dose_changes.csv", "episodes.csv", "medications.csv"]
    rows = list(csv.DictReader(io.StringIO(archive.read("episodes.csv").decode())))
    assert len(rows) == grant.patient.episodes.count()
    assert {"started_at", "muscle", "side", "severity"} <= set(rows[0])


def test_the_clinicians_csv_export_carries_no_live_formula(diary, dr):
    Episode.objects.create(
        user=diary,
        started_at=timezone.now(),
        muscle="calf",
        side="left",
        notes='=HYPERLINK("https://evil.example","x")',
    )
    grant = make_grant(diary, dr, notes=True)
    archive = zipfile.ZipFile(io.BytesIO(get(grant, "clinician-export-csv").content))
    cells = [
        cell
        for name in archive.namelist()
        for row in csv.reader(io.StringIO(archive.read(name).decode()))
        for cell in row
    ]
    assert '\'=HYPERLINK("https://evil.example","x")' in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_no_clinician_view_of_a_diary_is_kept_by_an_http_cache(grant):
    for name in ["clinician-patient", "clinician-report", "clinician-export-csv", "clinician-api-episodes"]:
        response = get(grant, name)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], (name, response["Cache-Control"])


def test_a_clinician_sees_times_in_the_patients_zone(dr):
    bob = make_user("ny@example.org", zone="America/New_York")
    seed_diary(bob, nights=10)
    grant = make_grant(bob, dr)
    document = fhir_export(grant)
    observations = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Observation"]
    times = [o.get("effectiveDateTime") or o["effectivePeriod"]["start"] for o in observations]
    assert times and all(t.endswith(("-05:00", "-04:00")) for t in times)
    page = get(grant, "clinician-patient").content.decode()
    assert "America/New_York" in page


def test_the_clinician_api_is_in_the_openapi_schema(client, db):
    schema = json.loads(client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    paths = schema["paths"]
    for path in (
        "/api/v1/clinician/patients/",
        "/api/v1/clinician/patients/{share_id}/",
        "/api/v1/clinician/patients/{share_id}/episodes/",
        "/api/v1/clinician/patients/{share_id}/checkins/",
        "/api/v1/clinician/patients/{share_id}/medications/",
        "/api/v1/clinician/patients/{share_id}/findings/",
        "/api/v1/clinician/redeem/",
        "/api/v1/shares/",
        "/api/v1/shares/invitations/",
        "/api/v1/shares/codes/",
        "/api/v1/shares/{share_id}/revoke/",
        "/api/v1/shares/access-log/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/clinician/patients/{share_id}/episodes/"]) == {"get", "parameters"} or set(
        paths["/api/v1/clinician/patients/{share_id}/episodes/"]
    ) == {"get"}


def test_an_empty_diary_renders_everywhere(alice, dr):
    grant = make_grant(alice, dr)
    for name in ("clinician-patient", "clinician-report", "clinician-report-pdf", "clinician-export-csv"):
        assert get(grant, name).status_code == 200, name
    assert len(fhir_export(grant)["entry"]) == 1  # the Patient alone
    assert signed_in(dr).get(reverse("clinician-dashboard")).status_code == 200
    assert signed_in(dr).get(reverse("clinician-api-patients")).json()[0]["last_30_nights"]["logged_nights"] == 0


def test_a_year_long_report_still_renders(grant):
    until = (timezone.now() - timedelta(days=1)).date()
    response = get(grant, "clinician-report-pdf", since=(until - timedelta(days=364)).isoformat(), until=until)
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) <= 2


def test_the_clinician_sees_a_red_flag_until_the_patient_acknowledges_it_then_in_the_history(alice, dr):
    seed_diary(alice, nights=60)
    zone = alice.profile.zone
    reported_on = local_today(zone) - timedelta(days=40)
    started = datetime.combine(reported_on, time(3), tzinfo=zone)
    Episode.objects.create(user=alice, started_at=started, muscle="calf", side="left", calf_swelling=True)
    refresh.analyse_and_store([alice.pk])
    grant = make_grant(alice, dr)
    reported = f"{reported_on.day} {reported_on:%b}" + (
        "" if reported_on.year == local_today(zone).year else f" {reported_on.year}"
    )

    row = alert_row(get(grant, "clinician-patient").content.decode(), "Swollen, red or warm left calf")
    assert "Same day" in row and f"reported {reported}<" in row and "Not yet" in row
    assert "Don't massage" not in row  # the patient's own instruction is not the clinician's

    patient = APIClient()
    patient.force_authenticate(alice)
    assert patient.post("/api/v1/insights/red-flags/calf_swelling/acknowledge/").status_code == 201
    acknowledged = f"Yes, said so on {local_today(zone).strftime('%-d %b %Y')}"
    for name in ("clinician-patient", "clinician-report"):
        row = alert_row(get(grant, name).content.decode(), "Swollen, red or warm left calf")
        assert "Same day" not in row and "Not yet" not in row, name
        assert "Acknowledged" in row and f"reported {reported}<" in row and acknowledged in row, name

    Grant.objects.filter(pk=grant.pk).update(insights=False)
    assert "Swollen, red or warm" not in get(grant, "clinician-patient").content.decode()


def test_a_report_without_cramps_shared_shows_no_cramp_rates_around_medicine_starts(diary, dr):
    # Medications only: the report lists the courses, but the rates before and after a start
    # are counted from the cramps and check-ins the patient kept back.
    grant = make_grant(diary, dr, episodes_checkins=False, insights=False, medications=True)
    for name in ("clinician-report", "clinician-report-pdf"):
        response = get(grant, name)
        assert response.status_code == 200
    page = get(grant, "clinician-report").content.decode()
    assert "Atorvastatin" in page
    assert "/night" not in page and "nights before" not in page and "logged)" not in page
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(get(grant, "clinician-report-pdf").content)).pages)
    assert "Atorvastatin" in text and "/night" not in text and "nights before" not in text
