"""manage.py purge_access_log: delete clinician-access log rows past their retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand

from sharing.retention import purge_access_log


class Command(BaseCommand):
    help = "Delete clinician-access log rows older than ACCESS_LOG_RETENTION_DAYS (what beat runs daily)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="keep this many days instead of ACCESS_LOG_RETENTION_DAYS")

    def handle(self, *args, days=None, **options):
        days = settings.ACCESS_LOG_RETENTION_DAYS if days is None else days
        if days <= 0:
            self.stdout.write("Retention is off (0 days): nothing deleted.")
            return
        deleted = purge_access_log(days=days)
        self.stdout.write(f"Deleted {deleted} access-log rows older than {days} days.")
