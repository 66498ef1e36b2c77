"""The whole diary in: CSV files from a spreadsheet (or an export), or a JSON export.

All or nothing: every row is validated with the API's serializers inside one
transaction, and any bad row rolls the whole import back and is reported by
file and line number. Re-importing the same file changes nothing: rows keep
their ids (or get one derived from their content), and a check-in is merged
into the one already stored for its date.

Columns are the API field names (see docs/api.md, "Importing a spreadsheet"). Only
the columns that identify a row are required; the rest may be left out.
"""

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from . import other_apps
from .exporter import (
    CHECKIN_COLUMNS,
    DOSE_CHANGE_COLUMNS,
    EPISODE_COLUMNS,
    FORMAT_NAME,
    MEDICATION_COLUMNS,
    RESTORE_SECTIONS,
    restore_formula,
)
from .localtime import is_valid_zone
from .models import CheckIn, DoseChange, Episode, MedicationCourse
from .recording import Conflict, create_all_once, create_once, iso_date_or_none, upsert_checkin
from .serializers import (
    CheckInSerializer,
    EpisodeSerializer,
    MedicationCourseSerializer,
    ProfileSerializer,
    StandaloneDoseChangeSerializer,
)

# Rows without an id get one derived from what identifies them, so importing the
# same spreadsheet twice does not double it.
ID_NAMESPACE = uuid.UUID("6f1d3c57-3f0e-4b7a-9a53-2d1c1d1e0c11")

KINDS = {
    # kind: (columns, required columns, key columns for derived ids)
    "medications": (MEDICATION_COLUMNS, {"name", "drug_class", "started_on"}, ("name", "drug_class", "started_on")),
    "dose_changes": (DOSE_CHANGE_COLUMNS, {"medication", "changed_on", "direction"}, ("medication", "changed_on")),
    "episodes": (EPISODE_COLUMNS, {"started_at", "muscle", "side"}, ("started_at", "muscle", "side")),
    "checkins": (CHECKIN_COLUMNS, {"date"}, ()),
}
ORDER = ["medications", "dose_changes", "episodes", "checkins"]
# A diary export is four CSV files; a zip with hundreds is not one.
IMPORT_MAX_FILES = 20

TRUE = {"yes", "y", "true", "1", "x"}
FALSE = {"no", "n", "false", "0"}
YES_OR_NO = TRUE | FALSE


def _boolean_fields(serializer_class) -> frozenset[str]:
    return frozenset(name for name, f in serializer_class().fields.items() if isinstance(f, serializers.BooleanField))


BOOLEAN_FIELDS = {
    "episodes": _boolean_fields(EpisodeSerializer),
    "checkins": _boolean_fields(CheckInSerializer),
    "medications": frozenset(),
    "dose_changes": frozenset(),
}


class ImportFailed(Exception):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages[:5]))
        self.messages = messages


@dataclass
class Source:
    name: str
    kind: str
    rows: list[tuple[int, dict]]  # (line number, raw row)
    app: str = ""  # another app's export (diary.other_apps), read as CrampTrack rows


@dataclass
class Report:
    created: dict = field(default_factory=lambda: {kind: 0 for kind in ORDER})
    unchanged: dict = field(default_factory=lambda: {kind: 0 for kind in ORDER})
    apps: dict = field(default_factory=dict)  # rows read from another app's export, by app
    dry_run: bool = False  # counted, then rolled back: nothing was saved


def sources_from_paths(paths: Iterable[str]) -> list[Source]:
    files = []
    for path in paths:
        with open(path, "rb") as handle:
            files.append((path, handle.read()))
    return sources_from_uploads(files)


class TooLarge(ImportFailed):
    """An upload that would unpack past the import limit (HTTP 413)."""


def sources_from_uploads(
    files: Iterable[tuple[str, bytes]], *, unzipped: bool = False, leg: other_apps.Leg = other_apps.UNSAID
) -> list[Source]:
    """`leg`: what to file another app's rows as, since they name no muscle or side."""
    sources: list[Source] = []
    errors: list[str] = []
    for name, content in files:
        if zipfile.is_zipfile(io.BytesIO(content)):
            if unzipped:
                errors.append(f"{name}: a zip inside a zip; unpack it and upload the files it holds.")
                continue
            sources.extend(sources_from_uploads(_unzip(name, content), unzipped=True, leg=leg))
            continue
        try:
            text = content.decode("utf-8-sig")  # spreadsheets often add a byte-order mark
        except UnicodeDecodeError:
            errors.append(f"{name}: not UTF-8 text; save the spreadsheet as 'CSV UTF-8'.")
            continue
        if text.lstrip().startswith("{"):
            sources.extend(_json_sources(name, text, errors))
        else:
            source = _csv_source(name, text, errors, leg)
            if source:
                sources.append(source)
    if errors:
        raise ImportFailed(errors)
    return sources


def _unzip(name: str, content: bytes) -> list[tuple[str, bytes]]:
    """A zip's files, refusing one that would unpack past the import limit (a "zip bomb").

    The sizes in a zip's directory can lie, so each file is read through a bounded
    stream, never more than what is left of the limit.
    """
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) > IMPORT_MAX_FILES:
                raise ImportFailed([f"{name}: {len(members)} files; an import takes at most {IMPORT_MAX_FILES}."])
            files, left = [], limit
            for info in members:
                with archive.open(info) as stream:
                    data = stream.read(left + 1)
                if len(data) > left:
                    raise TooLarge([f"{name}: unpacks to more than {limit:,} bytes, the import limit."])
                left -= len(data)
                files.append((f"{name}/{info.filename}", data))
            return files
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as error:
        raise ImportFailed([f"{name}: not a readable zip ({error})."]) from error


def _csv_source(name: str, text: str, errors: list[str], leg: other_apps.Leg) -> Source | None:
    # newline="": the csv module reads \r, \n and \r\n line ends itself (a lone \r was a 500).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _read_csv(name, reader, errors, leg)
    except csv.Error as error:
        errors.append(f"{name} line {reader.line_num + 1}: not readable as CSV ({error}).")  # the line it failed on
        return None


def _read_csv(name: str, reader: csv.DictReader, errors: list[str], leg: other_apps.Leg) -> Source | None:
    header = [column.strip() for column in (reader.fieldnames or [])]
    if not header:
        errors.append(f"{name} line 1: the file is empty.")
        return None
    app = other_apps.app_of(header)
    kind = "episodes" if app else _kind_of(header)
    if kind is None:
        errors.append(
            f"{name} line 1: cannot tell what this file holds; episodes need started_at, muscle and side, "
            "check-ins need date, medications need name, drug_class and started_on, dose changes need "
            "medication, changed_on and direction; a Cluster Headache Tracker export has start_time and intensity."
        )
        return None
    unknown = [column for column in header if column not in KINDS[kind][0]]
    if unknown and not app:
        errors.append(f"{name} line 1: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(KINDS[kind][0])}.")
        return None
    reader.fieldnames = header
    rows = []
    for row in reader:
        # The line the row starts on: reader.line_num is where it ends, past any line breaks inside its cells.
        line = reader.line_num - sum(value.count("\n") for value in row.values() if isinstance(value, str))
        if None in row:
            errors.append(f"{name} line {line}: more cells than columns.")
            continue
        if any((value or "").strip() for value in row.values()):
            cells = {key: restore_formula(value or "") for key, value in row.items()}
            rows.append((line, other_apps.cht_episode(cells, leg) if app else cells))
    return Source(name, kind, rows, app=app or "")


def _kind_of(header: list[str]) -> str | None:
    columns = set(header)
    for kind in ("episodes", "dose_changes", "medications", "checkins"):
        if KINDS[kind][1] <= columns:
            return kind
    return None


def _json_sources(name: str, text: str, errors: list[str]) -> list[Source]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        errors.append(f"{name} line {error.lineno}: not valid JSON ({error.msg}).")
        return []
    except RecursionError:
        errors.append(f"{name}: nested too deeply to be a CrampTrack JSON export.")
        return []
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        errors.append(f"{name} line 1: not a CrampTrack JSON export.")
        return []
    sources = []
    for kind in ORDER:
        rows = document.get(kind) or []
        if not isinstance(rows, list):
            errors.append(f"{name}: `{kind}` must be a list.")
            continue
        sources.append(Source(f"{name} {kind}", kind, [(i + 1, row) for i, row in enumerate(rows)]))
    if isinstance(document.get("profile"), dict):
        sources.append(Source(f"{name} profile", "profile", [(1, document["profile"])]))
    for section in RESTORE_SECTIONS:
        if section in document:
            sources.append(Source(f"{name} {section}", section, [(1, document[section])]))
    return sources


def import_sources(user, sources: list[Source], *, dry_run: bool = False) -> Report:
    """Validate and save every row, or raise ImportFailed and save nothing.

    A dry run does all of it, counts, and rolls back: the preview is the import itself."""
    report = Report(dry_run=dry_run)
    for source in sources:
        if source.app:
            report.apps[source.app] = report.apps.get(source.app, 0) + len(source.rows)
    errors: list[str] = []
    with transaction.atomic():
        # The profile first: its time zone is how local times are read in rows without a `timezone`.
        for kind in ["profile", *ORDER]:
            for source in (s for s in sources if s.kind == kind):
                if kind == "episodes":
                    _import_episodes(user, source, report, errors)
                    continue
                for line, raw in source.rows:
                    try:
                        zone = user.profile.zone
                        created = _import_row(user, kind, _clean(kind, raw, zone))
                    except ValidationError as error:
                        errors.extend(f"{source.name} line {line}: {message}" for message in _flatten(error.detail))
                    except Conflict as conflict:
                        errors.append(_conflict_message(source.name, line, conflict))
                    else:
                        if kind != "profile":
                            (report.created if created else report.unchanged)[kind] += 1
        # Sections of the apps above the diary (reminder settings): after the profile, whose zone they use.
        for source in (s for s in sources if s.kind in RESTORE_SECTIONS):
            try:
                RESTORE_SECTIONS[source.kind](user, source.rows[0][1])
            except ValidationError as error:
                errors.extend(f"{source.name}: {message}" for message in _flatten(error.detail))
        if errors or dry_run:
            transaction.set_rollback(True)
    if errors:
        raise ImportFailed(errors)
    return report


# Episodes are most of a diary (a 10 MB spreadsheet is about 100,000): validated by one serializer
# and written a batch at a time, rather than a serializer, a savepoint and three statements a row.
BATCH = 2000


def _import_episodes(user, source: Source, report: Report, errors: list[str]) -> None:
    serializers_by_cells: dict[frozenset[str], EpisodeSerializer] = {}
    zone = user.profile.zone
    for start in range(0, len(source.rows), BATCH):
        valid = []
        for line, raw in source.rows[start : start + BATCH]:
            data = _clean("episodes", raw, zone)
            cells = frozenset(data)
            if (serializer := serializers_by_cells.get(cells)) is None:
                serializer = serializers_by_cells[cells] = _episode_serializer_for(user, cells)
            try:
                valid.append((line, serializer.run_validation(data)))
            except ValidationError as error:
                errors.extend(f"{source.name} line {line}: {message}" for message in _flatten(error.detail))
        if errors:
            continue  # nothing more is written; the rest is still checked, so every bad line is listed
        created, unchanged, conflicts = create_all_once(Episode, user, valid)
        errors.extend(_conflict_message(source.name, line, conflict) for line, conflict in conflicts)
        report.created["episodes"] += created
        report.unchanged["episodes"] += unchanged


def _episode_serializer_for(user, cells: frozenset[str]) -> EpisodeSerializer:
    """The API's episode serializer without the fields that a row filling only `cells` leaves out.

    DRF skips a field missing from the data unless it is required or has a default, and a read-only
    field without a default adds nothing to the validated data; dropping those fields (DRF's way of
    changing a serializer's fields at run time) validates such a row exactly as the whole serializer
    does, with the same messages, without visiting the twenty-odd blank columns of every row.
    A spreadsheet has few distinct sets of filled cells, so there are few of these serializers.
    """
    serializer = EpisodeSerializer(context={"user": user})
    for name, episode_field in list(serializer.fields.items()):
        if name not in cells and not episode_field.required and episode_field.default is empty:
            serializer.fields.pop(name)
    return serializer


def _conflict_message(name: str, line: int, conflict: Conflict) -> str:
    return (
        f"{name} line {line}: id {conflict.stored.uuid} is already in your diary with a different "
        + ", ".join(conflict.fields)
        + "."
    )


SERIALIZERS = {
    "medications": (MedicationCourseSerializer, lambda u: MedicationCourse.objects.filter(user=u)),
    "dose_changes": (StandaloneDoseChangeSerializer, lambda u: DoseChange.objects.filter(course__user=u)),
    "episodes": (EpisodeSerializer, lambda u: Episode.objects.filter(user=u)),
}


def _import_row(user, kind: str, data: dict) -> bool:
    if kind == "checkins":
        day = iso_date_or_none(data.get("date"))  # not a date: upsert_checkin says why
        stored = CheckIn.objects.filter(user=user, date=day).first() if day else None
        before = CheckIn.objects.filter(pk=stored.pk).values().first() if stored else None
        row, created = upsert_checkin(user, data)
        after = CheckIn.objects.filter(pk=row.pk).values().first()
        return created or _changed(before, after)
    if kind == "profile":
        profile = ProfileSerializer(user.profile, data=data, partial=True)
        profile.is_valid(raise_exception=True)
        profile.save()
        return False
    serializer_class, scope = SERIALIZERS[kind]
    serializer = serializer_class(data=data, context={"user": user})
    serializer.is_valid(raise_exception=True)
    save_kwargs = {"lookup_first": True} if kind == "dose_changes" else {"user": user}
    _, created = create_once(serializer, scope(user), **save_kwargs)
    return created


def _changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    ignore = {"updated_at"}
    return {k: v for k, v in (before or {}).items() if k not in ignore} != {
        k: v for k, v in (after or {}).items() if k not in ignore
    }


def _clean(kind: str, raw: dict, zone) -> dict:
    """Spreadsheet cells to API values: blanks dropped, yes/no booleans, local times made aware."""
    if kind == "profile":
        return raw
    data = {}
    for key, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
            if key in BOOLEAN_FIELDS[kind] and value.lower() in YES_OR_NO:
                value = value.lower() in TRUE
        if value is None:
            continue
        data[key] = value
    if kind == "episodes" and isinstance(data.get("started_at"), str):
        row_zone = data.get("timezone")
        if isinstance(row_zone, str) and is_valid_zone(row_zone):
            zone = ZoneInfo(row_zone)  # the zone the night was lived in (an invalid one: the serializer says why)
        data["started_at"] = _aware(data["started_at"], zone)
    if not data.get("id") and KINDS[kind][2]:
        key = "|".join(str(data.get(column, "")) for column in KINDS[kind][2])
        data["id"] = str(uuid.uuid5(ID_NAMESPACE, f"{kind}|{key}"))
    return data


def _aware(text: str, zone) -> str:
    """A time without an offset is local clock time in the row's zone (or the profile's)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # the serializer reports the format error
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def _flatten(detail, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            label = "" if key == "non_field_errors" else f"{key}: "
            out.extend(_flatten(value, prefix + label))
        return out
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]
