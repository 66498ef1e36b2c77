"""The whole diary out: one JSON document, or CSV files a spreadsheet opens.

The CSV columns are the API's field names and are what diary.importer reads,
so an export imports back unchanged. An episode's time is written in its own
zone (the `timezone` column) with its UTC offset, so a spreadsheet shows the
clock time it was lived at.
"""

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from .models import CheckIn, DoseChange, Episode, MedicationCourse
from .serializers import (
    CheckInSerializer,
    EpisodeSerializer,
    MedicationCourseSerializer,
    ProfileSerializer,
    StandaloneDoseChangeSerializer,
)

FORMAT_NAME = "cramptrack-diary"
FORMAT_VERSION = 1
DIARY_SECTIONS = ("profile", "medications", "dose_changes", "episodes", "checkins")

# What the apps above the diary hold about the person, added to the JSON export as sections of their own
# (the notifications app's reminder settings and devices): name -> function(user) -> JSON-able data.
# Registered from their AppConfig.ready(), so the diary imports none of them. A section registered with
# `restore` is read back by the importer: restore(user, data) saves it or raises a ValidationError.
EXTRA_SECTIONS: dict[str, Callable[[Any], Any]] = {}
RESTORE_SECTIONS: dict[str, Callable[[Any, Any], None]] = {}


def add_section(name: str, build: Callable[[Any], Any], restore: Callable[[Any, Any], None] | None = None) -> None:
    if name in DIARY_SECTIONS:
        raise ValueError(f"{name!r} is one of the diary's own sections")
    EXTRA_SECTIONS[name] = build
    if restore is not None:
        RESTORE_SECTIONS[name] = restore


def writable_columns(serializer_class) -> list[str]:
    fields = serializer_class().fields
    return [name for name, field in fields.items() if not field.read_only]


EPISODE_COLUMNS = writable_columns(EpisodeSerializer)
CHECKIN_COLUMNS = writable_columns(CheckInSerializer)
MEDICATION_COLUMNS = writable_columns(MedicationCourseSerializer)
DOSE_CHANGE_COLUMNS = writable_columns(StandaloneDoseChangeSerializer)

# name of the CSV file -> (columns, serializer, queryset for a user)
TABLES = {
    "medications.csv": (
        MEDICATION_COLUMNS,
        MedicationCourseSerializer,
        lambda u: MedicationCourse.objects.filter(user=u),
    ),
    "dose_changes.csv": (
        DOSE_CHANGE_COLUMNS,
        StandaloneDoseChangeSerializer,
        lambda u: DoseChange.objects.filter(course__user=u).select_related("course").order_by("changed_on", "uuid"),
    ),
    "episodes.csv": (
        EPISODE_COLUMNS,
        EpisodeSerializer,
        lambda u: Episode.objects.filter(user=u).order_by("started_at", "uuid"),
    ),
    "checkins.csv": (CHECKIN_COLUMNS, CheckInSerializer, lambda u: CheckIn.objects.filter(user=u).order_by("date")),
}


def _local(rows: list[dict]) -> list[dict]:
    for row in rows:
        if row.get("started_at"):
            instant = datetime.fromisoformat(row["started_at"].replace("Z", "+00:00"))
            row["started_at"] = instant.astimezone(ZoneInfo(row["timezone"])).isoformat()
    return rows


def table_rows(user, name: str) -> list[dict]:
    columns, serializer_class, queryset = TABLES[name]
    data = serializer_class(queryset(user), many=True, context={"user": user}).data
    return _local([{column: row[column] for column in columns} for row in data])


def csv_text(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return neutralise_formula(str(value))


# A cell a spreadsheet would run as a formula (=HYPERLINK(...) in a note) starts with one of
# these (OWASP, "CSV Injection"). Such a cell is written with a leading apostrophe, which
# spreadsheets show as text; a cell that already starts with apostrophes before one of these
# gets one more, so the importer can take exactly one off and every value comes back exact.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def neutralise_formula(text: str) -> str:
    return "'" + text if _FORMULA.match(text) else text


def restore_formula(text: str) -> str:
    """The inverse of neutralise_formula, for the importer."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text, 1) else text


def csv_files(user) -> dict[str, str]:
    return {name: csv_text(TABLES[name][0], table_rows(user, name)) for name in TABLES}


def csv_zip(user) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in csv_files(user).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def json_document(user) -> dict:
    profile = dict(ProfileSerializer(user.profile).data)
    for private in ("email_verified",):
        profile.pop(private)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "profile": profile,
        "medications": table_rows(user, "medications.csv"),
        "dose_changes": table_rows(user, "dose_changes.csv"),
        "episodes": table_rows(user, "episodes.csv"),
        "checkins": table_rows(user, "checkins.csv"),
        **{name: build(user) for name, build in EXTRA_SECTIONS.items()},
    }


def json_bytes(user) -> bytes:
    # DRF's renderer, so numbers and times are written exactly as the API writes them.
    return JSONRenderer().render(json_document(user), renderer_context={"indent": 1})
