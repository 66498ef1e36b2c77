"""A shared diary as a FHIR R4 (4.0.1) Bundle: Patient, an Observation per cramp, a
MedicationStatement per course, built as plain dicts. The tests validate every shape written
here against the R4 models of fhir.resources 6.4 (sharing/tests/fhir_r4.py), so the server
needs neither those models nor pydantic.

Codes (SNOMED CT unless said otherwise):
- 449917004 |Leg cramp (finding)| for each episode: the concept annotated corpora
  (e.g. CADEC) use for "leg cramps". 449918009 |Cramp in lower leg| is narrower;
  CrampTrack also records thigh and foot cramps.
- Body sites: 53840002 calf, 56459004 foot, 29707007 toe, 68367000 thigh
  (hamstring, quadriceps: the text says which), 30021000 lower leg (shin).
- Laterality 272741003 with 7771000 left, 24028007 right, 51440002 right and left.
- Duration 103335007, in UCUM minutes.
- A night the patient answered "no cramps" is an Observation of 449917004 with the value
  373067005 |No| over that night (D 12:00 to D+1 12:00 local): an explicit negative. Nights
  with no answer are left out, so a reader never mistakes a missing night for a cramp-free one.
- Medication courses carry ATC class codes where the class maps to one.
The red-flag checklist and onset context use a CrampTrack code system.
"""

import json
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from diary.localtime import night_bounds
from diary.models import CHECKLIST_FIELDS, CheckIn, Episode, MedicationCourse, field_label

from .models import Grant

SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
CRAMPTRACK = "urn:cramptrack:codes"

LEG_CRAMP = {"system": SNOMED, "code": "449917004", "display": "Leg cramp"}
LATERALITY = {"system": SNOMED, "code": "272741003", "display": "Laterality"}
DURATION = {"system": SNOMED, "code": "103335007", "display": "Duration"}
NO = {"system": SNOMED, "code": "373067005", "display": "No"}

BODY_SITES = {
    "calf": ("53840002", "Calf of leg"),
    "foot": ("56459004", "Foot"),
    "toes": ("29707007", "Toe"),
    "hamstring": ("68367000", "Thigh"),
    "quadriceps": ("68367000", "Thigh"),
    "shin": ("30021000", "Lower leg"),
}
SIDES = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "both": ("51440002", "Right and left"),
}
ATC_CLASSES = {
    # Thiazide and thiazide-like diuretics span two ATC groups (C03A, C03B): text only.
    "loop_diuretic": ("C03C", "High-ceiling diuretics"),
    "potassium_sparing_diuretic": ("C03D", "Potassium-sparing agents"),
    "statin": ("C10AA", "HMG CoA reductase inhibitors"),
    "raloxifene": ("G03XC01", "raloxifene"),
    "nifedipine": ("C08CA05", "nifedipine"),
    "nicotinic_acid": ("C10AD02", "nicotinic acid"),
    "teriparatide": ("H05AA02", "teriparatide"),
    "naproxen": ("M01AE02", "naproxen"),
    "quinine": ("P01BC01", "quinine"),
}
RED_FLAG_FIELDS = CHECKLIST_FIELDS


def _urn(value) -> str:
    return f"urn:uuid:{value}"


def patient_resource(grant: Grant) -> dict:
    profile = grant.patient.profile
    resource = {
        "resourceType": "Patient",
        "id": str(grant.uuid),
        # The share id, not a database id: it means something only to this clinician.
        "identifier": [{"system": f"{settings.SITE_URL}/clinician/patients", "value": str(grant.uuid)}],
        "telecom": [{"system": "email", "value": grant.patient.email}],
    }
    if grant.patient.get_full_name():
        resource["name"] = [{"text": grant.patient.get_full_name()}]
    if profile.sex in ("female", "male", "other"):
        resource["gender"] = profile.sex
    if profile.birth_year:
        resource["birthDate"] = str(profile.birth_year)  # FHIR dates may be a year alone
    return resource


def episode_observation(episode: Episode, patient_ref: str, zone, with_notes: bool) -> dict:
    site_text = f"{episode.get_side_display()} {episode.get_muscle_display().lower()}"
    body_site: dict = {"text": site_text}
    if episode.muscle in BODY_SITES:
        code, display = BODY_SITES[episode.muscle]
        body_site["coding"] = [{"system": SNOMED, "code": code, "display": display}]
    side_code, side_display = SIDES[episode.side]
    components: list[dict[str, Any]] = [
        {
            "code": {"coding": [LATERALITY]},
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": side_code, "display": side_display}]},
        }
    ]
    if episode.duration_minutes is not None:
        components.append(
            {
                "code": {"coding": [DURATION]},
                "valueQuantity": {
                    "value": float(episode.duration_minutes),
                    "unit": "min",
                    "system": UCUM,
                    "code": "min",
                },
            }
        )
    for name in RED_FLAG_FIELDS:
        if getattr(episode, name):
            label = field_label(Episode, name)
            components.append(
                {"code": {"coding": [{"system": CRAMPTRACK, "code": name, "display": label}]}, "valueBoolean": True}
            )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(episode.uuid),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": _urn(episode.uuid)}],
        "status": "final",
        "code": {"coding": [LEG_CRAMP], "text": "Leg cramp"},
        "subject": {"reference": patient_ref},
        "performer": [{"reference": patient_ref}],
        "effectiveDateTime": episode.started_at.astimezone(zone).isoformat(),
        "issued": episode.created_at.astimezone(zone).isoformat(),
        "bodySite": body_site,
        "component": components,
    }
    if episode.severity is not None:
        # The patient's 0-10 rating is the observation's value.
        resource["valueInteger"] = episode.severity
    if episode.time_approximate:
        resource.setdefault("note", []).append({"text": "Start time is approximate."})
    if with_notes and episode.notes:
        resource.setdefault("note", []).append({"text": episode.notes})
    return resource


def cramp_free_night(checkin: CheckIn, patient_ref: str, zone) -> dict:
    start, end = night_bounds(checkin.date, zone)
    return {
        "resourceType": "Observation",
        "id": str(checkin.uuid),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": _urn(checkin.uuid)}],
        "status": "final",
        "code": {"coding": [LEG_CRAMP], "text": "Leg cramp"},
        "subject": {"reference": patient_ref},
        "performer": [{"reference": patient_ref}],
        "effectivePeriod": {"start": start.isoformat(), "end": end.isoformat()},
        "valueCodeableConcept": {"coding": [NO], "text": "No leg cramps that night"},
    }


def medication_statement(course: MedicationCourse, patient_ref: str, today: date, with_notes: bool) -> dict:
    concept: dict = {"text": course.name}
    if course.drug_class in ATC_CLASSES:
        code, display = ATC_CLASSES[course.drug_class]
        concept["coding"] = [{"system": ATC, "code": code, "display": display}]
    stopped = course.stopped_on is not None and course.stopped_on < today
    period = {"start": course.started_on.isoformat()}
    if course.stopped_on:
        period["end"] = course.stopped_on.isoformat()
    resource = {
        "resourceType": "MedicationStatement",
        "id": str(course.uuid),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": _urn(course.uuid)}],
        "status": "completed" if stopped else "active",
        "medicationCodeableConcept": concept,
        "subject": {"reference": patient_ref},
        "informationSource": {"reference": patient_ref},
        "effectivePeriod": period,
    }
    if course.dose:
        resource["dosage"] = [{"text": course.dose}]
    if with_notes and course.notes:
        resource["note"] = [{"text": course.notes}]
    return resource


def bundle(grant: Grant, now: datetime | None = None) -> dict:
    """The shared parts of the diary as a FHIR R4 collection Bundle (a plain dict)."""
    now = now or timezone.now()
    zone = grant.patient.profile.zone
    patient_ref = _urn(grant.uuid)
    entries = [{"fullUrl": patient_ref, "resource": patient_resource(grant)}]
    if grant.episodes_checkins:
        for episode in Episode.objects.filter(user_id=grant.patient_id).order_by("started_at"):
            entries.append(
                {
                    "fullUrl": _urn(episode.uuid),
                    "resource": episode_observation(episode, patient_ref, zone, grant.notes),
                }
            )
        for checkin in CheckIn.objects.filter(user_id=grant.patient_id, no_cramps=True).order_by("date"):
            entries.append({"fullUrl": _urn(checkin.uuid), "resource": cramp_free_night(checkin, patient_ref, zone)})
    if grant.medications:
        today = now.astimezone(zone).date()
        for course in MedicationCourse.objects.filter(user_id=grant.patient_id).order_by("started_on"):
            entries.append(
                {
                    "fullUrl": _urn(course.uuid),
                    "resource": medication_statement(course, patient_ref, today, grant.notes),
                }
            )
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat(), "entry": entries}


def bundle_bytes(grant: Grant, now: datetime | None = None) -> bytes:
    return json.dumps(bundle(grant, now), indent=1, ensure_ascii=False).encode()
