"""manage.py import_diary --user EMAIL FILE...: all rows saved, or none and every bad line listed."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from diary import importer


class Command(BaseCommand):
    help = "Import CSV files (or a zip of them, or a JSON export) into one person's diary."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the diary owner's email")
        parser.add_argument(
            "files", nargs="+", help="episodes.csv, checkins.csv, medications.csv, dose_changes.csv, .zip or .json"
        )

    def handle(self, *args, user, files, **options):
        owner = User.objects.filter(email__iexact=user).first()
        if owner is None:
            raise CommandError(f"No account with the email {user}.")
        try:
            report = importer.import_sources(owner, importer.sources_from_paths(files))
        except FileNotFoundError as error:
            raise CommandError(f"{error.filename}: no such file.") from None
        except importer.ImportFailed as failure:
            raise CommandError("Nothing was imported:\n  " + "\n  ".join(failure.messages)) from None
        for kind, count in report.created.items():
            self.stdout.write(f"{kind}: {count} new, {report.unchanged[kind]} already there")
