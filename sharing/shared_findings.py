"""The findings a grant shows: all of them, but without the medicines when medications are not shared.

A finding names the medicine it is about ("after you started Simvastatin"), and its trigger,
tip and source say what kind of medicine it is. A grant that leaves medications out still
shows the finding (a clinician must see that cramps rose after a change, or that dark urine
came with one), but as "a medicine": the name, the class and the class's guidance go.
"""

import copy
import re
from collections import defaultdict
from collections.abc import Sequence

from diary.models import MedicationCourse
from insights.catalogue import CATALOGUE
from insights.models import Finding

from .models import Grant

UNNAMED = "a medicine (not shared with you)"


def findings_for(grant: Grant) -> list[Finding]:
    return findings_for_grants([grant])[grant.pk]


def findings_for_grants(grants: list[Grant]) -> dict[int, list[Finding]]:
    """Each grant's findings (by grant id), most urgent first: two queries however many grants."""
    patients = {grant.patient_id for grant in grants}
    findings: dict[int, list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(user_id__in=patients).order_by("user_id", "rank"):
        findings[finding.user_id].append(finding)
    unshared = {grant.patient_id for grant in grants if not grant.medications}
    courses: dict[int, list[tuple[str, object]]] = defaultdict(list)
    for user_id, name, course_uuid in MedicationCourse.objects.filter(user_id__in=unshared).values_list(
        "user_id", "name", "uuid"
    ):
        courses[user_id].append((name, course_uuid))
    return {
        grant.pk: (
            findings[grant.patient_id]
            if grant.medications
            else _hide_medicines(findings[grant.patient_id], courses[grant.patient_id])
        )
        for grant in grants
    }


def _hide_medicines(findings: list[Finding], courses: Sequence[tuple[str, object]]) -> list[Finding]:
    # Longest names first, so "Simvastatin XL" goes whole rather than leaving " XL".
    names = sorted({name for name, _ in courses if name.strip()}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(name) for name in names), re.IGNORECASE) if names else None
    return [without_medicines(finding, courses, pattern) for finding in findings]


def without_medicines(finding: Finding, courses: Sequence[tuple[str, object]], pattern: re.Pattern | None) -> Finding:
    about_a_course = any(str(course_uuid) in finding.key for _, course_uuid in courses)
    entry = CATALOGUE.get(finding.trigger)
    named = pattern is not None and pattern.search(finding.message + finding.tip)
    if not (about_a_course or named or (entry is not None and entry.kind == "medication")):
        return finding
    hidden = copy.copy(finding)  # never saved: the patient's own view keeps the names
    hidden.trigger = ""  # which kind of medicine is what the patient kept back
    hidden.key = f"{finding.rule}:medicine:{finding.rank}"
    hidden.message = pattern.sub(UNNAMED, finding.message) if pattern else finding.message
    hidden.tip = hidden.source = ""
    return hidden
