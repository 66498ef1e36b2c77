"""The access log's retention: only the purge (and the patient's own erasure) may delete rows,
and the purge deletes exactly the rows past ACCESS_LOG_RETENTION_DAYS."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import make_user
from cramptrack.celery import app
from sharing import access, retention
from sharing.models import AccessLog, Grant
from sharing.tasks import purge_access_log

from .conftest import make_clinician, make_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_rows():
    """Rows 10, 400, 800 and 1000 days old (two grants), 1000 days old twice."""
    patient, clinician = make_user("p@example.org"), make_clinician("dr@x.example")
    now = timezone.now()
    grant = make_grant(patient, clinician, now=now - timedelta(days=1001), days=2000)
    for age in (10, 400, 800, 1000, 1000):
        access.record_view(grant, grant.clinician, AccessLog.What.PATIENT_PAGE, now=now - timedelta(days=age))
    return grant


def ages(now) -> list[int]:
    return sorted((now - row.at).days for row in AccessLog.objects.all())


def test_the_purge_deletes_only_rows_past_the_retention(settings, log_rows):
    settings.ACCESS_LOG_RETENTION_DAYS = 730
    now = timezone.now()
    assert retention.purge_access_log(now=now) == 3
    assert ages(now) == [10, 400]
    assert retention.purge_access_log(now=now) == 0  # idempotent


def test_the_purge_works_in_batches(settings, monkeypatch, log_rows):
    monkeypatch.setattr(retention, "PURGE_BATCH", 2)
    assert retention.purge_access_log(days=30) == 4
    assert AccessLog.objects.count() == 1


def test_zero_days_keeps_everything(settings, log_rows):
    settings.ACCESS_LOG_RETENTION_DAYS = 0
    assert retention.purge_access_log() == 0
    out = StringIO()
    call_command("purge_access_log", stdout=out)
    assert "nothing deleted" in out.getvalue()
    assert AccessLog.objects.count() == 5


def test_the_command_and_the_beat_task(settings, log_rows):
    out = StringIO()
    call_command("purge_access_log", "--days", "900", stdout=out)
    assert out.getvalue().strip() == "Deleted 2 access-log rows older than 900 days."
    settings.ACCESS_LOG_RETENTION_DAYS = 500
    assert purge_access_log.apply().get() == 1
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-access-log"]
    assert entry["task"] == "sharing.purge_access_log" and entry["task"] in app.tasks
    assert entry["schedule"] == 24 * 3600


def test_nothing_else_may_delete_or_change_the_log(log_rows):
    with pytest.raises(TypeError):
        AccessLog.objects.all().delete()
    with pytest.raises(DatabaseError, match="retention purge"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM sharing_accesslog")
    # A grant deleted on its own (the admin, a shell) cannot take its log with it.
    with pytest.raises(DatabaseError, match="retention purge"), transaction.atomic():
        Grant.objects.filter(pk=log_rows.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE sharing_accesslog SET detail = 'x'")
    assert AccessLog.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_the_permission_to_delete_lasts_one_transaction(log_rows):
    with transaction.atomic():
        retention.allow_access_log_delete()
    with pytest.raises(DatabaseError, match="retention purge"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM sharing_accesslog")
    with transaction.atomic():
        retention.allow_access_log_delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sharing_accesslog WHERE at < now() - interval '900 days'")
            assert cursor.rowcount == 2
