"""A shared diary as a FHIR R4 (4.0.1) Bundle: Patient, an Observation per cramp, a
MedicationStatement per dose of each course, built as plain dicts. The tests validate every
shape written here against the R4 models of fhir.resources 6.4 (sharing/tests/fhir_r4.py), so
the server needs neither those models nor pydantic.

Codes (SNOMED CT unless said otherwise):
- 449917004 |Leg cramp (finding)| for each episode: the concept annotated corpora
  (e.g. CADEC) use for "leg cramps". 449918009 |Cramp in lower leg| is narrower;
  CrampTrack also records thigh and foot cramps. Every Observation is patient-reported:
  category `survey`.
- Severity: a component coded LOINC 72514-3 |Pain severity - 0-10 verbal numeric rating
  [Score] - Reported|, in UCUM {score}. Duration 103335007, in UCUM minutes.
- bodySite: the structure refined by its side, as a post-coordinated expression
  (SNOMED CT compositional grammar, which FHIR accepts as a code): 53840002 calf, 56459004
  foot, 29707007 toe, 68367000 thigh (hamstring, quadriceps: the text says which), 30021000
  lower leg (shin), each with 272741003 |Laterality| = 7771000 left, 24028007 right or
  51440002 right and left. Expressions rather than pre-coordinated "left calf" concepts: the
  attribute and its values are the well-known ones, the pre-coordinated codes we could not
  check.
- A night the patient answered "no cramps" is an Observation of 449917004 with the value
  373067005 |No| over that night (D 12:00 to D+1 12:00 local): an explicit negative. Nights
  with no answer are left out, so a reader never mistakes a missing night for a cramp-free one.
- Red flags with one finding that means just what the patient ticked: 26544005 |Muscle
  weakness|, 39575007 |Urine looks dark|. The other checklist questions ask about two or three
  symptoms at once ("breathlessness or chest pain"): a code for one of them would say more than
  the patient did, so they keep CrampTrack's own code system, served at code_system_url().
- Medicines: the ATC class (WHO ATC) where the class maps to one, the name as text; one
  MedicationStatement per dose (see medication_statements).
"""

import hashlib
import hmac
import json
import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst

from diary.choices import DoseDirection, DrugClass
from diary.localtime import night_bounds
from diary.models import CHECKLIST_FIELDS, CheckIn, Episode, MedicationCourse, field_label

from .models import Grant

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

LEG_CRAMP = {"system": SNOMED, "code": "449917004", "display": "Leg cramp"}
PAIN_SEVERITY = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
DURATION = {"system": SNOMED, "code": "103335007", "display": "Duration"}
NO = {"system": SNOMED, "code": "373067005", "display": "No"}
SURVEY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]

LATERALITY = "272741003"
BODY_SITES = {
    "calf": "53840002",
    "foot": "56459004",
    "toes": "29707007",
    "hamstring": "68367000",
    "quadriceps": "68367000",
    "shin": "30021000",
}
SIDES = {"left": "7771000", "right": "24028007", "both": "51440002"}
RED_FLAG_FINDINGS = {
    "weakness": ("26544005", "Muscle weakness"),
    "dark_urine": ("39575007", "Urine looks dark"),
}
ATC_CLASSES = {
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
# The diary's one class "thiazide or thiazide-like" spans two ATC groups: thiazides (C03A) and
# the thiazide-like sulfonamides (C03B). The name decides where it can; otherwise the class is
# only known to be a diuretic (C03).
THIAZIDE_LIKE = ("indapamide", "chlortalidone", "chlorthalidone", "metolazone", "xipamide")
THIAZIDES = ("C03A", "Low-ceiling diuretics, thiazides")
THIAZIDE_LIKE_DIURETICS = ("C03B", "Low-ceiling diuretics, excl. thiazides")
DIURETICS = ("C03", "Diuretics")


def code_system_url() -> str:
    """CrampTrack's own codes (checklist questions no single SNOMED CT finding matches)."""
    return f"{settings.SITE_URL}/fhir/CodeSystem/cramptrack"


def local_flags() -> list[str]:
    return [name for name in CHECKLIST_FIELDS if name not in RED_FLAG_FINDINGS]


def code_system() -> dict:
    """The CodeSystem resource served at code_system_url(), so a reader can look the codes up."""
    return {
        "resourceType": "CodeSystem",
        "id": "cramptrack",
        "url": code_system_url(),
        "name": "CrampTrack",
        "title": "CrampTrack episode checklist",
        "status": "active",
        "description": "What a patient ticked on CrampTrack's checklist for one leg cramp.",
        "caseSensitive": True,
        "content": "complete",
        "concept": [{"code": name, "display": capfirst(field_label(Episode, name))} for name in local_flags()],
    }


def _urn(value) -> str:
    return f"urn:uuid:{value}"


def patient_id(grant: Grant) -> str:
    """One id per patient and reader (the clinician, or the practice for a practice's share), the
    same on every share between them and for every member of a practice: a keyed HMAC of the pair
    (never the user id or the email), so records from earlier exports match up in one record
    system, while two readers cannot link their copies. It changes if SECRET_KEY does."""
    key = hashlib.sha256(f"cramptrack.fhir-patient:{settings.SECRET_KEY}".encode()).digest()
    reader = f"practice:{grant.practice_id}" if grant.practice_id else grant.clinician_id
    pair = f"{grant.patient_id}:{reader}".encode()
    return str(uuid.UUID(bytes=hmac.new(key, pair, hashlib.sha256).digest()[:16], version=4))


def patient_resource(grant: Grant) -> dict:
    profile = grant.patient.profile
    stable_id = patient_id(grant)
    resource = {
        "resourceType": "Patient",
        "id": stable_id,
        "identifier": [{"system": f"{settings.SITE_URL}/fhir/patient-id", "value": stable_id}],
        "telecom": [{"system": "email", "value": grant.patient.email}],
    }
    if grant.patient.get_full_name():
        resource["name"] = [{"text": grant.patient.get_full_name()}]
    if profile.sex in ("female", "male", "other"):
        resource["gender"] = profile.sex
    if profile.birth_year:
        resource["birthDate"] = str(profile.birth_year)  # FHIR dates may be a year alone
    return resource


def body_site(episode: Episode) -> dict:
    site: dict[str, Any] = {"text": f"{episode.get_side_display()} {episode.get_muscle_display().lower()}"}
    if episode.muscle in BODY_SITES:
        # An expression has no display of its own; the text says it in words.
        expression = f"{BODY_SITES[episode.muscle]}:{LATERALITY}={SIDES[episode.side]}"
        site["coding"] = [{"system": SNOMED, "code": expression}]
    return site


def red_flag_code(name: str) -> dict:
    label = capfirst(field_label(Episode, name))
    if name in RED_FLAG_FINDINGS:
        code, display = RED_FLAG_FINDINGS[name]
        return {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": label}
    return {"coding": [{"system": code_system_url(), "code": name, "display": label}], "text": label}


def episode_observation(episode: Episode, patient_ref: str, zone, with_notes: bool) -> dict:
    components: list[dict[str, Any]] = []
    if episode.severity is not None:
        components.append(
            {
                "code": {"coding": [PAIN_SEVERITY], "text": "Cramp severity (0-10)"},
                "valueQuantity": {"value": episode.severity, "unit": "{score}", "system": UCUM, "code": "{score}"},
            }
        )
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
    for name in CHECKLIST_FIELDS:
        if getattr(episode, name):
            components.append({"code": red_flag_code(name), "valueBoolean": True})
    # The cramp itself is the finding: it needs no value (a cramp-free night says No).
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(episode.uuid),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": _urn(episode.uuid)}],
        "status": "final",
        "category": SURVEY,
        "code": {"coding": [LEG_CRAMP], "text": "Leg cramp"},
        "subject": {"reference": patient_ref},
        "performer": [{"reference": patient_ref}],
        "effectiveDateTime": episode.started_at.astimezone(zone).isoformat(),
        "issued": episode.created_at.astimezone(zone).isoformat(),
        "bodySite": body_site(episode),
    }
    if components:
        resource["component"] = components
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
        "category": SURVEY,
        "code": {"coding": [LEG_CRAMP], "text": "Leg cramp"},
        "subject": {"reference": patient_ref},
        "performer": [{"reference": patient_ref}],
        "effectivePeriod": {"start": start.isoformat(), "end": end.isoformat()},
        "valueCodeableConcept": {"coding": [NO], "text": "No leg cramps that night"},
    }


def atc_class(course: MedicationCourse) -> tuple[str, str] | None:
    if course.drug_class != DrugClass.THIAZIDE_DIURETIC:
        return ATC_CLASSES.get(course.drug_class)
    name = course.name.lower()
    if any(word in name for word in THIAZIDE_LIKE):
        return THIAZIDE_LIKE_DIURETICS
    return THIAZIDES if "thiazide" in name else DIURETICS


def medication_statements(course: MedicationCourse, patient_ref: str, today: date, with_notes: bool) -> list[dict]:
    """One MedicationStatement per dose: the course's first dose from its start, then each dose
    change's from its date, each until the next change (that day: the diary knows the date, not
    the hour) or the course's stop. A statement per period rather than several dosages in one:
    medication lists and reconciliation read a statement as one medicine at one dose over one
    period (many read dosage[0] alone), and R06 treats a dose increase as a new exposure too.
    The first keeps the course's id, the others their dose change's."""
    concept: dict[str, Any] = {"text": course.name}
    if atc := atc_class(course):
        concept["coding"] = [{"system": ATC, "code": atc[0], "display": atc[1]}]
    changes = sorted(
        (change for change in course.dose_changes.all() if course.is_active_on(change.changed_on)),
        key=lambda change: (change.changed_on, change.created_at),
    )
    starts = [(course.uuid, course.started_on, course.dose), *((c.uuid, c.changed_on, c.dose) for c in changes)]
    statements = []
    for i, (row_id, start, dose) in enumerate(starts):
        change = changes[i] if i < len(changes) else None
        end = change.changed_on if change else course.stopped_on
        period = {"start": start.isoformat()}
        if end:
            period["end"] = end.isoformat()
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": str(row_id),
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": _urn(row_id)}],
            "status": "completed" if end is not None and end < today else "active",
            "medicationCodeableConcept": concept,
            "subject": {"reference": patient_ref},
            "informationSource": {"reference": patient_ref},
            "effectivePeriod": period,
        }
        if change:
            direction = DoseDirection(change.direction).label.lower()
            resource["statusReason"] = [{"text": f"Dose {direction} on {change.changed_on.isoformat()}"}]
        if dose:
            resource["dosage"] = [{"text": dose}]
        if with_notes and course.notes:
            resource["note"] = [{"text": course.notes}]
        statements.append(resource)
    return statements


def bundle(grant: Grant, now: datetime | None = None) -> dict:
    """The shared parts of the diary as a FHIR R4 collection Bundle (a plain dict)."""
    now = now or timezone.now()
    zone = grant.patient.profile.zone
    patient_ref = _urn(patient_id(grant))
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
        courses = MedicationCourse.objects.filter(user_id=grant.patient_id).prefetch_related("dose_changes")
        for course in courses.order_by("started_on", "name"):
            for statement in medication_statements(course, patient_ref, today, grant.notes):
                entries.append({"fullUrl": _urn(statement["id"]), "resource": statement})
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat(), "entry": entries}


def bundle_bytes(grant: Grant, now: datetime | None = None) -> bytes:
    return json.dumps(bundle(grant, now), indent=1, ensure_ascii=False).encode()
