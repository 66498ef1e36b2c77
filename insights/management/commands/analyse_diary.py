"""manage.py analyse_diary --user EMAIL [--json]: the same analysis the workers run, for one person."""

import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from insights import refresh
from insights.models import Finding


class Command(BaseCommand):
    help = "Analyse one person's diary now, store the findings and print them."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the diary owner's email")
        parser.add_argument("--json", action="store_true", help="print a JSON list instead of text")

    def handle(self, *args, user, json: bool, **options):
        owner = User.objects.filter(email__iexact=user).first()
        if owner is None:
            raise CommandError(f"No account with the email {user}.")
        refresh.analyse_and_store([owner.pk])
        findings = list(Finding.objects.filter(user=owner).order_by("rank"))
        if json:
            self.stdout.write(_json([as_output(f) for f in findings]))
            return
        for f in findings:
            level = f" [{f.escalation}]" if f.escalation else ""
            self.stdout.write(f"{f.rule:5} {f.status}{level}: {f.message}")
            if f.tip:
                self.stdout.write(f"      tip: {f.tip}")


def as_output(f: Finding) -> dict:
    return {
        "key": f.key,
        "rule": f.rule,
        "trigger": f.trigger,
        "status": f.status,
        "rate_ratio": f.rate_ratio,
        "interval": [f.ci_low, f.ci_high] if f.ci_low is not None or f.ci_high is not None else None,
        "counts": f.counts,
        "escalation": f.escalation or None,
        "message": f.message,
        "tip": f.tip,
        "source": f.source,
        "nights_needed": f.nights_needed,
    }


def _json(data) -> str:
    return json.dumps(data, indent=2)
