"""make demo: the demo clinician can read the demo diary after the real TOTP login."""

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from diary import demo
from sharing import demo as sharing_demo
from sharing.models import Grant

from .conftest import totp_code


def test_share_demo_gives_the_clinician_a_working_grant_and_key(db, capsys):
    call_command("seed_demo")
    call_command("share_demo")
    call_command("share_demo")  # safe to re-run: one open grant
    assert "TOTP key" in capsys.readouterr().out
    grant = Grant.objects.get(revoked_at__isnull=True)
    client = Client()
    client.post(reverse("account_login"), {"login": demo.CLINICIAN_EMAIL, "password": demo.CLINICIAN_PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(sharing_demo.CLINICIAN_TOTP_KEY)})
    page = client.get(reverse("clinician-patient", args=[grant.uuid]))
    assert page.status_code == 200 and demo.PATIENT_EMAIL.encode() in page.content
