"""Data rights: erasing an account leaves no row that references the person, in any table
(found by walking every foreign key in every installed model, allauth's, knox's and the
admin's included) and no file; the export holds every diary table."""

import io
import json
import os
import uuid
import zipfile
from datetime import date, timedelta

import pyotp
import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.apps import apps
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.test import Client
from django.utils import timezone

from accounts.allauth_compat import activate_totp
from conftest import make_user
from diary.models import CheckIn, DoseChange, Episode, MedicationCourse, Profile
from insights.models import AnalysisState, Finding
from notifications.models import DigestDelivery, PushSubscription, ReminderDelivery, ReminderSettings
from notifications.vapid import b64url
from sharing import access, practices
from sharing.models import AccessLog, Grant, Practice
from sharing.tests.conftest import make_clinician, make_grant

PASSWORD = "correct horse battery"  # noqa: S105 (conftest.make_user's)


def references_to_user() -> list[tuple[type, str]]:
    """(model, lookup) for every chain of up to three foreign keys / one-to-ones ending at the
    user model, in every installed model, auto-created many-to-many tables included."""
    user_model = get_user_model()
    reach: dict[type[models.Model], set[str]] = {user_model: {""}}
    for _ in range(3):
        for model in apps.get_models(include_auto_created=True):
            for field in model._meta.concrete_fields:
                if field.related_model is not None and (field.many_to_one or field.one_to_one):
                    for rest in list(reach.get(field.related_model, ())):
                        reach.setdefault(model, set()).add(f"{field.name}__{rest}" if rest else field.name)
    return sorted(
        ((model, lookup) for model, lookups in reach.items() for lookup in lookups if model is not user_model),
        key=lambda pair: (pair[0]._meta.label, pair[1]),
    )


def count(model, lookup, pk) -> int:
    return model._base_manager.filter(**{lookup: pk}).count()


def api_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fill_everything(patient, clinician, other_patient):
    """A row in every table that can point at a person, written the way the app writes them."""
    api = api_client(patient)
    course = str(uuid.uuid4())
    posts = [
        (
            "/api/v1/episodes/",
            {"started_at": "2026-11-03T03:10:00Z", "muscle": "calf", "side": "left", "notes": "n", "weakness": True},
        ),
        ("/api/v1/checkins/", {"date": "2026-11-02", "no_cramps": False, "notes": "c"}),
        (
            "/api/v1/medications/",
            {"id": course, "name": "Atorvastatin", "drug_class": "statin", "started_on": "2026-09-01"},
        ),
        ("/api/v1/dose-changes/", {"medication": course, "changed_on": "2026-10-01", "direction": "increase"}),
    ]
    for url, body in posts:
        assert api.post(url, body, content_type="application/json").status_code in (200, 201), url
    token = Client().post(
        "/api/v1/auth/token/", {"email": patient.email, "password": PASSWORD}, content_type="application/json"
    )
    assert token.status_code == 201
    now = timezone.now()
    AnalysisState.objects.create(user=patient, analysed_at=now)
    Finding.objects.create(
        user=patient, key="R02", rule="R02", trigger="exercise", status="possible", rank=0, message="m",
        analysis_version="1", analysed_at=now,
    )  # fmt: skip
    DigestDelivery.objects.create(user=patient, week_start=date(2026, 11, 2), next_attempt_at=now)
    ReminderSettings.objects.create(user=patient, enabled=True)
    PushSubscription.objects.create(user=patient, endpoint="https://push.example.net/erase-me", p256dh="k", auth="a")
    ReminderDelivery.objects.create(user=patient, night=date(2026, 11, 1), due_at=now, next_attempt_at=now)
    assert api.post("/api/v1/insights/red-flags/weakness/acknowledge/").status_code == 201
    address = EmailAddress.objects.create(user=patient, email=patient.email, verified=True, primary=True)
    EmailConfirmation.create(address)
    activate_totp(patient, pyotp.random_base32())
    group = Group.objects.create(name="readers")
    patient.groups.add(group)
    patient.user_permissions.add(Permission.objects.first())
    user_type = ContentType.objects.get_for_model(patient)
    LogEntry.objects.create(
        user=patient, content_type=user_type, object_id=str(other_patient.pk), object_repr="x", action_flag=CHANGE
    )
    # Admin history *about* her rows (no foreign key reaches these).
    episode = Episode.objects.get(user=patient)
    LogEntry.objects.create(
        user=clinician, content_type=ContentType.objects.get_for_model(Episode), object_id=str(episode.pk),
        object_repr=str(episode), action_flag=ADDITION,
    )  # fmt: skip
    LogEntry.objects.create(
        user=clinician, content_type=user_type, object_id=str(patient.pk), object_repr=patient.email, action_flag=CHANGE
    )
    grant = make_grant(patient, clinician)
    access.record_view(grant, grant.clinician, AccessLog.What.PATIENT_PAGE)
    other_grant = make_grant(other_patient, clinician)
    access.record_view(other_grant, other_grant.clinician, AccessLog.What.REPORT)
    practice = practices.create_practice(clinician, "Erasure Street Surgery")
    practice_grant = make_grant(patient, clinician, practice=practice)
    access.record_view(practice_grant, clinician, AccessLog.What.REPORT)
    return api


def test_erasing_accounts_leaves_no_row_that_references_them(db, django_capture_on_commit_callbacks):
    patient = make_user("erase-me@example.org")
    clinician = make_clinician("dr-erase@example.org")
    carol = make_user("carol@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        api = fill_everything(patient, clinician, carol)
    references = references_to_user()
    # Every way a row can point at a person is exercised, so nothing below passes for want of data.
    unexercised = [
        f"{model._meta.label}.{lookup}"
        for model, lookup in references
        if count(model, lookup, patient.pk) + count(model, lookup, clinician.pk) == 0
    ]
    assert unexercised == [], "add rows for these to fill_everything()"
    history_about_her = LogEntry.objects.filter(object_repr__in=[patient.email, str(Episode.objects.get(user=patient))])
    assert history_about_her.count() == 2
    session_key = api.session.session_key

    assert api.delete("/api/v1/me/", {"password": PASSWORD}, content_type="application/json").status_code == 204

    left = {
        f"{model._meta.label}.{lookup}": n for model, lookup in references if (n := count(model, lookup, patient.pk))
    }
    assert left == {}
    assert not get_user_model().objects.filter(pk=patient.pk).exists()
    assert not history_about_her.exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert AccessLog.objects.filter(patient=carol).count() == 1  # another patient's log is untouched

    # The clinician erases theirs: their grants end, and only the patients' own record of what
    # they read stays (the documented exception), naming them by email.
    assert (
        api_client(clinician).delete("/api/v1/me/", {"password": PASSWORD}, content_type="application/json").status_code
        == 204
    )
    left = {
        f"{model._meta.label}.{lookup}": n for model, lookup in references if (n := count(model, lookup, clinician.pk))
    }
    assert left == {"sharing.AccessLog.clinician": 1}
    row = AccessLog.objects.get(clinician_id=clinician.pk)
    assert row.patient == carol and row.clinician_email == "dr-erase@example.org"
    assert Grant.objects.get(patient=carol).clinician is None
    # The practice stays (others may share with it), without them.
    assert not Practice.objects.get(name="Erasure Street Surgery").memberships.exists()


def test_no_model_stores_files():
    """Nothing a person uploads is kept as a file (imports are read in memory; exports are built
    per request), so erasing the rows erases everything. A FileField added later must be deleted
    with its account: this test is the reminder."""
    file_fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert file_fields == []


EXPORTED = {Profile: "profile", Episode: "episodes", CheckIn: "checkins", MedicationCourse: "medications"}
EXPORTED[DoseChange] = "dose_changes"


def test_the_export_covers_every_diary_table(alice):
    diary_models = {model for model, _ in references_to_user() if model._meta.app_label == "diary"}
    assert diary_models == set(EXPORTED), "a diary table is missing from the export"
    api = api_client(alice)
    course = str(uuid.uuid4())
    rows = {
        "episodes": {"id": str(uuid.uuid4()), "started_at": "2026-11-03T03:10:00Z", "muscle": "calf", "side": "left"},
        "checkins": {"id": str(uuid.uuid4()), "date": "2026-11-02", "no_cramps": False},
        "medications": {"id": course, "name": "Atorvastatin", "drug_class": "statin", "started_on": "2026-09-01"},
        "dose_changes": {
            "id": str(uuid.uuid4()),
            "medication": course,
            "changed_on": "2026-10-01",
            "direction": "increase",
        },
    }
    for name, body in rows.items():
        url = f"/api/v1/{name.replace('_', '-')}/"
        response = api.post(url, body, content_type="application/json")
        assert response.status_code in (200, 201), (name, response.content)
    document = json.loads(api.get("/api/v1/export/").content)
    assert document["profile"]["timezone"] == "Europe/London"
    for name, body in rows.items():
        assert [row["id"] for row in document[name]] == [body["id"]], name
    with zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export/csv/").content)) as archive:
        for name, body in rows.items():
            assert body["id"] in archive.read(f"{name}.csv").decode(), name
    for model in diary_models - {Profile}:
        assert model.objects.count() == 1  # one row each, and each one came out above


def test_the_export_holds_reminder_settings_and_devices_but_no_push_credentials(alice, bob, settings, tmp_path):
    from notifications import vapid

    settings.VAR_DIR = tmp_path  # the VAPID key the settings page hands out is made here
    vapid.vapid.cache_clear()
    api = api_client(alice)
    settings_body = {"enabled": True, "time": "07:30", "second_nudge_hours": 2, "email_fallback": True}
    assert api.patch("/api/v1/reminders/", settings_body, content_type="application/json").status_code == 200
    secrets = []
    for user, label in ((alice, "Pixel 8"), (alice, ""), (bob, "Bob's tablet")):
        device_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        keys = {
            "p256dh": b64url(device_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)),
            "auth": b64url(os.urandom(16)),
        }
        endpoint = f"https://push.example.net/wpush/v2/{uuid.uuid4().hex}"
        body = {"endpoint": endpoint, "expirationTime": None, "keys": keys, "label": label}
        response = api_client(user).post("/api/v1/reminders/devices/", body, content_type="application/json")
        assert response.status_code == 201, response.content
        secrets += [endpoint, keys["p256dh"], keys["auth"]]
    sent_at = timezone.now().replace(microsecond=0)
    PushSubscription.objects.filter(user=alice, label="Pixel 8").update(last_sent_at=sent_at)  # a reminder went

    raw = api.get("/api/v1/export/").content
    reminders = json.loads(raw)["reminders"]
    devices = reminders.pop("devices")
    assert reminders == {**settings_body, "quiet_start": "22:00", "quiet_end": "07:00"}
    assert [(d["label"], d["last_sent_at"]) for d in devices] == [
        ("Pixel 8", sent_at.isoformat().replace("+00:00", "Z")),
        ("", None),
    ]
    assert all(set(d) == {"label", "created_at", "last_sent_at"} and d["created_at"] for d in devices)
    # Never the push service's credentials (anyone holding them can push to the phone), nor Bob's device.
    for secret in [*secrets, "push.example.net", "Bob's tablet"]:
        assert secret.encode() not in raw, secret
    # A person who never opened the reminder settings gets the defaults, and no one else's devices.
    assert json.loads(api_client(make_user("carol@example.org")).get("/api/v1/export/").content)["reminders"] == {
        "enabled": False, "time": "08:00", "second_nudge_hours": None, "quiet_start": "22:00", "quiet_end": "07:00",
        "email_fallback": False, "devices": [],
    }  # fmt: skip

    # The export imports into another account (another server): the settings come back, the devices cannot,
    # since their keys never left; each phone turns reminders on again.
    newcomer_user = make_user("newcomer@example.org")
    EmailAddress.objects.create(user=newcomer_user, email=newcomer_user.email, verified=True, primary=True)
    newcomer = api_client(newcomer_user)
    upload = io.BytesIO(raw)
    upload.name = "cramptrack.json"
    assert newcomer.post("/api/v1/import/", {"files": [upload]}).status_code == 200
    restored = newcomer.get("/api/v1/reminders/").json()
    assert {name: restored[name] for name in reminders} == {
        **settings_body,
        "quiet_start": "22:00",
        "quiet_end": "07:00",
    }
    assert restored["devices"] == [] and restored["channel"] == "email"  # the fallback until a phone subscribes
    assert ReminderSettings.objects.get(user__email="newcomer@example.org").next_at is not None
    assert PushSubscription.objects.filter(user__email="newcomer@example.org").count() == 0
    vapid.vapid.cache_clear()


def test_the_export_lists_every_weekly_email_and_reminder_sent_to_the_person_and_no_one_elses(db):
    alice, bob = make_user("alice@example.org"), make_user("bob@example.org")
    sent_at = timezone.now().replace(microsecond=0)
    for user, week in ((alice, date(2026, 11, 23)), (alice, date(2026, 11, 30)), (bob, date(2026, 11, 30))):
        DigestDelivery.objects.create(
            user=user, week_start=week, kind="week", status="sent", sent_at=sent_at, next_attempt_at=sent_at,
            last_error="the mail server's own words",
        )  # fmt: skip
    ReminderDelivery.objects.create(
        user=alice, night=date(2026, 12, 6), nudge=1, due_at=sent_at, next_attempt_at=sent_at,
        channel=ReminderDelivery.Channel.PUSH, status=ReminderDelivery.Status.SENT, sent_at=sent_at,
    )  # fmt: skip
    ReminderDelivery.objects.create(
        user=alice, night=date(2026, 12, 6), nudge=2, due_at=sent_at, next_attempt_at=sent_at,
        status=ReminderDelivery.Status.SKIPPED,
    )  # fmt: skip

    raw = api_client(alice).get("/api/v1/export/").content
    history = json.loads(raw)["notifications_sent"]
    when = sent_at.isoformat().replace("+00:00", "Z")
    assert history["weekly_emails"] == [
        {"week_start": "2026-11-30", "kind": "week", "status": "sent", "sent_at": when},
        {"week_start": "2026-11-23", "kind": "week", "status": "sent", "sent_at": when},
    ]
    assert [(r["night"], r["nudge"], r["status"]) for r in history["reminders"]] == [
        ("2026-12-06", 1, "sent"),
        ("2026-12-06", 2, "skipped"),
    ]
    assert b"the mail server's own words" not in raw
    assert json.loads(api_client(bob).get("/api/v1/export/").content)["notifications_sent"]["reminders"] == []


@pytest.mark.parametrize("days_ago", [1])
def test_other_tables_reachable_from_a_person_are_known(days_ago):
    """Guards the walk itself: it must see the tables we know point at people."""
    labels = {f"{model._meta.label}.{lookup}" for model, lookup in references_to_user()}
    expected = {
        "diary.DoseChange.course__user",
        "account.EmailConfirmation.email_address__user",
        "knox.AuthToken.user",
        "mfa.Authenticator.user",
        "sharing.AccessLog.grant__patient",
        "sharing.AccessLog.clinician",
        "accounts.User_groups.user",
        "admin.LogEntry.user",
    }
    assert expected <= labels
    assert timedelta(days=days_ago)  # (parametrised only to keep the id readable)
