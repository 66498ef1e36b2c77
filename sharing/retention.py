"""The only two ways clinician-access log rows leave the database: the patient erasing their
account, and the retention purge (ACCESS_LOG_RETENTION_DAYS).

On PostgreSQL a trigger (migration 0003) refuses any other DELETE on sharing_accesslog: a
statement runs only in a transaction that called allow_access_log_delete() first.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from .models import AccessLog

PURGE_BATCH = 10_000


def allow_access_log_delete(using: str = "default") -> None:
    """Let this transaction delete access-log rows (a transaction-local setting the trigger reads)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('cramptrack.accesslog_delete', 'on', true)")


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="sharing.access_log_goes_with_the_patient")
def _account_erasure(sender, instance, using, **kwargs):
    # Django cascades in Python inside the deleting transaction, which this runs in: the
    # patient's log (their grants' rows) is deleted with the account.
    allow_access_log_delete(using)


def purge_access_log(now: datetime | None = None, days: int | None = None) -> int:
    """Delete log rows older than the retention period, in batches; returns how many."""
    days = settings.ACCESS_LOG_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            allow_access_log_delete()
            ids = list(AccessLog.objects.filter(at__lt=cutoff).order_by().values_list("pk", flat=True)[:PURGE_BATCH])
            if ids:
                # The base QuerySet.delete: AccessLogQuerySet.delete refuses every other caller.
                deleted += models.QuerySet.delete(AccessLog.objects.filter(pk__in=ids))[0]
        if len(ids) < PURGE_BATCH:
            return deleted
