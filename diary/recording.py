"""How diary rows are written: idempotent creates, check-in upserts, bulk sync.

The API views, the bulk sync endpoint and the importer all write through here,
so the same client uuid means the same row whichever door it came in by.
"""

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from cramptrack.db import prepared_cursor

from .localtime import night_of
from .models import CheckIn, Episode, Profile, correct_no_cramp_answers, touch_diary
from .serializers import CheckInSerializer, EpisodeSerializer

SYNC_MAX_RECORDS = 500

# Fields that a client never sends and so never make two bodies differ.
_NOT_COMPARED = {"id", "uuid", "user", "night", "created_at", "updated_at"}


class Conflict(Exception):
    """The uuid exists with different content; the stored row wins until the client decides."""

    def __init__(self, stored: Model, fields: list[str]):
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


def create_once(serializer, scope: QuerySet, *, lookup_first: bool = False, **save_kwargs) -> tuple[Model, bool]:
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


def create_episode(user, validated: dict) -> tuple[Episode, bool]:
    """Store a validated episode unless its uuid is the user's already; returns (row, created).

    The same contract as create_once, for the request a phone sends most. On PostgreSQL
    the row, the diary's "changed" marker and the correction of a "no cramps" answer for
    its night go in one statement: one round trip, atomic without BEGIN/COMMIT. SQLite
    (the embedded default) has no data-modifying CTEs and takes the ORM's three statements.
    """
    episode = Episode(user=user, **validated)
    episode.night = night_of(episode.started_at, user.profile.zone)
    episode.created_at = episode.updated_at = timezone.now()
    if connection.vendor == "postgresql":
        created = _insert_episode_marked(episode)
    else:
        created = _insert_episode_orm(episode)
    if created:
        return episode, True
    stored = Episode.objects.get(user=user, uuid=episode.uuid)
    return _same_or_conflict(stored, validated), False


def _insert_episode_orm(episode: Episode) -> bool:
    try:
        with transaction.atomic():
            episode.save(force_insert=True)
    except IntegrityError:
        if not Episode.objects.filter(user_id=episode.user_id, uuid=episode.uuid).exists():
            raise
        return False
    return True


# Field types whose values, once the serializer has validated them (or the model's defaults),
# Django's get_db_prep_save hands to psycopg unchanged on PostgreSQL: calling it 2,900 times per
# sync cost an eighth of the request (29 times, a twentieth of a create). Any other type still goes through it.
_STORED_AS_IS = (
    models.BooleanField,
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.UUIDField,
    models.DateField,  # and DateTimeField: aware datetimes pass unchanged
    models.ForeignKey,
)


@cache
def _episode_columns() -> list[tuple[models.Field, bool]]:
    """The columns both episode INSERTs write, each with whether its value goes to psycopg as it is."""
    return [(f, isinstance(f, _STORED_AS_IS)) for f in Episode._meta.concrete_fields if not f.primary_key]


@cache
def _insert_episode_sql() -> str:
    """The statement, written once per process."""
    fields = [f for f, _ in _episode_columns()]
    quote = connection.ops.quote_name
    # Table and column names come from model metadata; every value is a parameter.
    sql = f"""
        WITH inserted AS (
            INSERT INTO {quote(Episode._meta.db_table)} ({", ".join(quote(f.column) for f in fields)})
            VALUES ({", ".join(["%s"] * len(fields))})
            ON CONFLICT (user_id, uuid) DO NOTHING
            RETURNING id
        ), touched AS (
            UPDATE {quote(Profile._meta.db_table)} SET diary_changed_at = %s
            WHERE user_id = %s AND EXISTS (SELECT FROM inserted)
        ), corrected AS (
            UPDATE {quote(CheckIn._meta.db_table)} SET no_cramps = false
            WHERE user_id = %s AND date = %s AND no_cramps AND EXISTS (SELECT FROM inserted)
        )
        SELECT id FROM inserted"""  # noqa: S608
    return sql


def _insert_episode_marked(episode: Episode) -> bool:
    """INSERT … ON CONFLICT DO NOTHING, with touch_diary and correct_no_cramp_answers as CTEs."""
    sql = _insert_episode_sql()
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once rather than per field
    params = [
        getattr(episode, f.attname) if as_is else f.get_db_prep_save(getattr(episode, f.attname), db)
        for f, as_is in _episode_columns()
    ]
    params += [episode.created_at, episode.user_id, episode.user_id, episode.night]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    episode.pk = row[0]
    episode._state.adding = False
    return True


def insert_episodes(episodes: list[Episode]) -> None:
    """INSERT new episodes in one statement (raises IntegrityError if a uuid is taken).

    On PostgreSQL one parameter per column, an array of every episode's values, which
    unnest() turns back into rows: the statement's text is the same for any batch, so it is
    prepared, and there are 29 parameters to send rather than 29 per episode. bulk_create
    spent more CPU composing and quoting its 2,900 placeholders than on the rest of a sync.
    """
    if connection.vendor != "postgresql":
        Episode.objects.bulk_create(episodes)
        return
    if not episodes:
        return
    sql = _insert_episodes_sql()
    db = connections[DEFAULT_DB_ALIAS]
    now = timezone.now()
    for episode in episodes:
        episode.created_at = episode.updated_at = now
    columns = []
    for f, as_is in _episode_columns():
        values = [getattr(e, f.attname) for e in episodes]
        columns.append(values if as_is else [f.get_db_prep_save(value, db) for value in values])
    with prepared_cursor() as cursor:
        cursor.execute(sql, columns)


@cache
def _insert_episodes_sql() -> str:
    fields = [f for f, _ in _episode_columns()]
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    # Names and types come from model metadata; every value is in a parameter.
    sql = (
        f"INSERT INTO {quote(Episode._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays})"
    )
    return sql


def _same_or_conflict(stored: Model, validated: dict) -> Model:
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
        stored = CheckIn.objects.select_for_update().filter(user=user, date=day).first() if day else None
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
                    serializer.validated_data[name] = CheckIn._meta.get_field(name).get_default()
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
    """Apply a batch of offline records; each one succeeds or fails on its own.

    Episodes are validated one by one, then looked up and inserted in bulk
    (one query each), which is what makes a 100-record sync cheap.
    """
    results: list[SyncResult | None] = [None] * len(records)
    new_episodes: list[tuple[int, dict]] = []
    # One serializer validates every episode: building its fields costs more than validating.
    validator = EpisodeSerializer(context={"user": user, "strict_json": True})

    for index, record in enumerate(records):
        kind = record.get("type") if isinstance(record, dict) else None
        data = record.get("data") if isinstance(record, dict) else None
        raw_id = data.get("id") if isinstance(data, dict) else None
        if kind not in ("episode", "checkin") or not isinstance(data, dict):
            results[index] = SyncResult(
                index,
                str(kind),
                raw_id,
                "invalid",
                {"type": 'Each record needs "type" (episode or checkin) and "data".'},
            )
            continue
        if kind == "checkin":
            results[index] = _sync_checkin(user, index, data)
            continue
        if not raw_id:
            results[index] = SyncResult(index, kind, None, "invalid", {"id": "Offline records need a client uuid."})
            continue
        try:
            new_episodes.append((index, validator.run_validation(data)))
        except ValidationError as error:
            results[index] = SyncResult(index, kind, str(raw_id), "invalid", error.detail)

    for index, result in _sync_episodes(user, new_episodes):
        results[index] = result
    return results  # type: ignore[return-value]


def _sync_checkin(user, index: int, data: dict) -> SyncResult:
    try:
        row, created = upsert_checkin(user, data, strict=True)
    except ValidationError as error:
        return SyncResult(index, "checkin", data.get("id"), "invalid", error.detail)
    except Conflict:
        return SyncResult(index, "checkin", data.get("id"), "conflict", {"id": "This id belongs to another date."})
    return SyncResult(index, "checkin", str(row.uuid), "created" if created else "updated")


def _sync_episodes(user, batch: list[tuple[int, dict]]):
    if not batch:
        return
    zone = user.profile.zone
    scope = Episode.objects.filter(user=user)
    stored = {row.uuid: row for row in scope.filter(uuid__in=[validated["uuid"] for _, validated in batch])}
    to_insert: list[tuple[int, Episode]] = []
    seen: dict = {}
    for index, validated in batch:
        uid = validated["uuid"]
        existing = stored.get(uid) or seen.get(uid)
        if existing is not None:
            fields = differing_fields(existing, validated)
            status = "conflict" if fields else "unchanged"
            errors = {name: "differs from the stored episode" for name in fields}
            yield index, SyncResult(index, "episode", str(uid), status, errors)
            continue
        episode = Episode(user=user, **validated)
        episode.night = night_of(episode.started_at, zone)
        seen[uid] = episode
        to_insert.append((index, episode))

    batch_by_index = dict(batch)
    try:
        with transaction.atomic():
            insert_episodes([episode for _, episode in to_insert])
            correct_no_cramp_answers(user.pk, {episode.night for _, episode in to_insert})
            touch_diary(user.pk)
        for index, episode in to_insert:
            yield index, SyncResult(index, "episode", str(episode.uuid), "created")
    except IntegrityError:
        # A concurrent sync inserted some of these: fall back to one savepoint each.
        for index, episode in to_insert:
            try:
                with transaction.atomic():
                    episode.pk = None
                    episode.save()
                yield index, SyncResult(index, "episode", str(episode.uuid), "created")
            except IntegrityError:
                stored_row = scope.get(uuid=episode.uuid)
                fields = differing_fields(stored_row, dict(batch_by_index[index]))
                status = "conflict" if fields else "unchanged"
                yield index, SyncResult(index, "episode", str(episode.uuid), status)
