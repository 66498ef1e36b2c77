"""The findings a grant shows: all of them, but without the medicines when medications are not shared.

A finding names the medicine it is about ("after you started Simvastatin"), and its trigger,
tip and source say what kind of medicine it is. A grant that leaves medications out still
shows the finding (a clinician must see that cramps rose after a change, or that dark urine
came with one), but as "a medicine": the name, the class and the class's guidance go.
"""

import copy
import re
from collections.abc import Sequence

from diary.models import MedicationCourse
from insights.catalogue import CATALOGUE
from insights.models import Finding

from .models import Grant

UNNAMED = "a medicine (not shared with you)"


def findings_for(grant: Grant) -> list[Finding]:
    findings = list(Finding.objects.filter(user_id=grant.patient_id).order_by("rank"))
    if grant.medications:
        return findings
    courses = list(MedicationCourse.objects.filter(user_id=grant.patient_id).values_list("name", "uuid"))
    return [without_medicines(finding, courses) for finding in findings]


def without_medicines(finding: Finding, courses: Sequence[tuple[str, object]]) -> Finding:
    names = sorted({name for name, _ in courses if name.strip()}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(name) for name in names), re.IGNORECASE) if names else None
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
