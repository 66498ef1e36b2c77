"""manage.py share_demo: the demo patient shares with the demo clinician (run after seed_demo)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from sharing.demo import CLINICIAN_TOTP_KEY, share_demo_diary, totp_uri


class Command(BaseCommand):
    help = "Share the demo diary with the demo clinician and give the clinician a known TOTP key."

    def handle(self, *args, **options):
        grant = share_demo_diary()
        self.stdout.write(f"The demo patient shares their diary with {grant.clinician_email} until {grant.last_day}.")
        self.stdout.write(f"Clinician view: {settings.SITE_URL}/clinician/ (two-factor: TOTP key {CLINICIAN_TOTP_KEY},")
        self.stdout.write(f"  or scan {totp_uri()})")
