"""manage.py seed_demo: the demo patient (120 nights of diary) and clinician; safe to re-run."""

from django.conf import settings
from django.core.management.base import BaseCommand

from diary.demo import seed_demo


class Command(BaseCommand):
    help = "Create or replace the demo patient's diary and the demo clinician, then print their logins."

    def handle(self, *args, **options):
        summary = seed_demo()
        self.stdout.write(
            f"Demo diary: nights {summary.first_night} to {summary.last_night}, "
            f"{summary.logged_nights} logged, {summary.checkins} check-ins, {summary.episodes} cramps."
        )
        self.stdout.write(f"Log in at {settings.SITE_URL}/accounts/login/ as:")
        for login in summary.logins:
            self.stdout.write(f"  {login.role:<10} {login.email:<34} password: {login.password}")
