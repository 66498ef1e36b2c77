"""Print a new VAPID key pair for Web Push reminders, in the form the settings take."""

from django.core.management.base import BaseCommand

from notifications.vapid import application_server_key, new_private_key, raw_private


class Command(BaseCommand):
    help = "Print a new VAPID key pair: set VAPID_PRIVATE_KEY in the environment; keep it secret and keep it."

    def handle(self, *args, **options):
        key = new_private_key()
        self.stdout.write(f"VAPID_PRIVATE_KEY={raw_private(key)}")
        self.stdout.write(f"# public key (the app reads it from /api/v1/reminders/): {application_server_key(key)}")
