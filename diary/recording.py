"""How diary rows are written: idempotent creates, check-in upserts, bulk sync.

The API views, the bulk sync endpoint and the importer all write through here,
so the same client uuid means the same row whichever door it came in by.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Field, Model, QuerySet
from rest_framework.exceptions import ValidationError

from .models import CheckIn, DiaryRow, Episode, touch_diary
from .serializers import CheckInSerializer, EpisodeSerializer

SYNC_MAX_RECORDS = 500

# Fields that a client never sends and so never make two bodies differ.
_NOT_COMPARED = {"id", "uuid", "user", "night", "created_at", "updated_at"}


class Conflict(Exception):
    """The uuid exists with different content; the stored row wins until the client decides."""

    def __init__(self, stored: DiaryRow, fields: list[str]):
        super().__init__(f"stored row differs in {', '.join(fields)}")
        self.stored = stored
        self.fields = fields


def differing_fields(stored: Model, validated: dict[str, Any]) -> list[str]:
    """Fields where a new body (with model defaults for what it omits) differs from the stored row."""
    candidate = type(stored)(**validated)
    names = []
    for model_field in stored._meta.concrete_fields:
        name = model_field.attname
        if model_field.name in _NOT_COMPARED or model_field.primary_key or not model_field.editable:
            continue
        if model_field.name == "course" and "course" not in validated:
            continue
        if getattr(candidate, name) != getattr(stored, name):
            names.append(model_field.name)
    return names


def create_once(serializer, scope: QuerySet, *, lookup_first: bool = False, **save_kwargs) -> tuple[DiaryRow, bool]:
    """Save a validated serializer's row unless its uuid is already in `scope`.

    Returns (row, created). The same uuid with the same body returns the stored
    row; with a different body it raises Conflict. A retried or concurrent
    identical request fails at the unique constraint and gets the stored row.
    `lookup_first` is for rows whose unique constraint is narrower than `scope`
    (a dose change is unique per course, its scope is the owner's courses).
    """
    uid = serializer.validated_data.get("uuid")
    if lookup_first and uid is not None and (stored := scope.filter(uuid=uid).first()) is not None:
        return _same_or_conflict(stored, serializer.validated_data), False
    # Insert first: a new uuid (nearly every request) costs no lookup; a retry hits the
    # unique constraint, rolls back its savepoint and is then compared with the stored row.
    try:
        with transaction.atomic():
            return serializer.save(**save_kwargs), True
    except IntegrityError:
        stored = scope.filter(uuid=uid).first() if uid is not None else None
        if stored is None:
            raise
        return _same_or_conflict(stored, serializer.validated_data), False


def create_all_once(model, user, rows: list[tuple[int, dict]]) -> tuple[int, int, list[tuple[int, Conflict]]]:
    """create_once for many validated rows of one diary (the importer's episodes), in a few queries.

    Rows whose uuid is stored (or came earlier in `rows`) are compared as create_once compares
    them; the rest are inserted together (DiaryRow.create_all). Returns (created, unchanged,
    [(line, Conflict)]). The caller holds the transaction and the diary's write lock.
    """
    uids = [data["uuid"] for _, data in rows if data.get("uuid") is not None]
    stored = {row.uuid: row for row in model.objects.filter(user=user, uuid__in=uids)}
    new, unchanged, conflicts = [], 0, []
    for line, data in rows:
        existing = stored.get(data.get("uuid"))
        if existing is None:
            row = model(user=user, **data)
            new.append(row)
            stored[row.uuid] = row
        elif fields := differing_fields(existing, data):
            conflicts.append((line, Conflict(existing, fields)))
        else:
            unchanged += 1
    if not conflicts:
        model.create_all(user.pk, new)
    return len(new), unchanged, conflicts


def _same_or_conflict(stored: DiaryRow, validated: dict) -> DiaryRow:
    fields = differing_fields(stored, validated)
    if fields:
        raise Conflict(stored, fields)
    return stored


def upsert_checkin(user, data: dict, *, partial: bool = True, strict: bool = False) -> tuple[CheckIn, bool]:
    """Create or update the check-in for data["date"]; returns (row, created).

    Partial upserts merge the given fields (the morning "none" and the evening
    context may come from different devices); a full one resets omitted fields.
    `data` is raw client data; validation errors raise DRF's ValidationError.
    """
    day = iso_date_or_none(data.get("date"))  # not a date: the serializer below says why
    with transaction.atomic():
        # The diary's write lock first (diary_written): a concurrent upsert of the same date waits
        # here, then finds the row the first one stored and merges into it.
        touch_diary(user.pk)
        stored = CheckIn.objects.filter(user=user, date=day).first() if day else None
        serializer = CheckInSerializer(
            stored, data=data, partial=partial and stored is not None, context={"user": user, "strict_json": strict}
        )
        serializer.is_valid(raise_exception=True)
        uid = serializer.validated_data.get("uuid")
        if stored is not None and uid is not None and uid != stored.uuid:
            # The client made its own row for a date that already has one: merge into the stored row.
            serializer.validated_data.pop("uuid")
        elif stored is None and uid is not None:
            other = CheckIn.objects.filter(user=user, uuid=uid).first()
            if other is not None:
                raise Conflict(other, ["date"])
        if stored is not None and not partial:
            for name in _writable(serializer):
                if name not in serializer.validated_data:
                    field = CheckIn._meta.get_field(name)
                    assert isinstance(field, Field)  # a writable serializer field is a column
                    serializer.validated_data[name] = field.get_default()
        return serializer.save(user=user), stored is None


def iso_date_or_none(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _writable(serializer) -> list[str]:
    return [f.source for f in serializer.fields.values() if not f.read_only and f.source not in ("uuid", "date")]


@dataclass
class SyncResult:
    index: int
    type: str
    id: str | None
    status: str  # created | unchanged | updated | conflict | invalid
    errors: dict = field(default_factory=dict)
    record: dict | None = None


def sync_records(user, records: list[dict]) -> list[SyncResult]:
    """Apply a batch of offline records in order; each one is stored or refused on its own.

    An episode goes through create_once and a check-in through upsert_checkin, as a single
    create or upsert does, so a synced row is stored exactly as the same row sent alone.
    One transaction for the batch (a savepoint per record): if the database fails midway,
    the client is told so and nothing of the batch is half-saved; its retry is idempotent.
    """
    with transaction.atomic():
        return [_sync_record(user, index, record) for index, record in enumerate(records)]


def _sync_record(user, index: int, record) -> SyncResult:
    kind = record.get("type") if isinstance(record, dict) else None
    data = record.get("data") if isinstance(record, dict) else None
    raw_id = data.get("id") if isinstance(data, dict) else None
    if kind not in ("episode", "checkin") or not isinstance(data, dict):
        errors = {"type": 'Each record needs "type" (episode or checkin) and "data".'}
        return SyncResult(index, str(kind), raw_id, "invalid", errors)
    if kind == "checkin":
        return _sync_checkin(user, index, data)
    if not raw_id:
        return SyncResult(index, kind, None, "invalid", {"id": "Offline records need a client uuid."})
    serializer = EpisodeSerializer(data=data, context={"user": user, "strict_json": True})
    if not serializer.is_valid():
        return SyncResult(index, kind, str(raw_id), "invalid", serializer.errors)
    try:
        row, created = create_once(serializer, Episode.objects.filter(user=user), user=user)
    except Conflict as conflict:
        errors = {name: "differs from the stored episode" for name in conflict.fields}
        return SyncResult(index, kind, str(raw_id), "conflict", errors)
    return SyncResult(index, kind, str(row.uuid), "created" if created else "unchanged")


def _sync_checkin(user, index: int, data: dict) -> SyncResult:
    try:
        row, created = upsert_checkin(user, data, strict=True)
    except ValidationError as error:
        # A serializer's errors: a dict by field.
        errors = error.detail if isinstance(error.detail, dict) else {"non_field_errors": error.detail}
        return SyncResult(index, "checkin", data.get("id"), "invalid", errors)
    except Conflict:
        return SyncResult(index, "checkin", data.get("id"), "conflict", {"id": "This id belongs to another date."})
    return SyncResult(index, "checkin", str(row.uuid), "created" if created else "updated")
