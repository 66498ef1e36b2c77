"""The demo's sharing: the demo patient shares their diary with the demo clinician, whose
TOTP key is fixed and printed, like the demo passwords. Never seed the demo on a public site."""

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.db import transaction
from django.utils import timezone

from accounts.allauth_compat import activate_totp
from accounts.models import User
from diary import demo

from . import codes
from .models import DEFAULT_DAYS, Grant

# Public on purpose (base32): add it to an authenticator app to log in as the demo clinician.
CLINICIAN_TOTP_KEY = "CRAMPTRACKDEMOCLINICIANTOTP23456"


def totp_uri() -> str:
    return f"otpauth://totp/CrampTrack:{demo.CLINICIAN_EMAIL}?secret={CLINICIAN_TOTP_KEY}&issuer=CrampTrack"


@transaction.atomic
def share_demo_diary(now=None) -> Grant:
    """Replace the demo clinician's TOTP and the demo grant; safe to re-run."""
    now = now or timezone.now()
    patient = User.objects.get(email=demo.PATIENT_EMAIL)
    clinician = User.objects.get(email=demo.CLINICIAN_EMAIL)
    Authenticator.objects.filter(user=clinician, type=Authenticator.Type.TOTP).delete()
    activate_totp(clinician, CLINICIAN_TOTP_KEY)
    Grant.objects.filter(patient=patient, clinician=clinician, revoked_at__isnull=True).update(revoked_at=now)
    return Grant.objects.create(
        patient=patient,
        clinician=clinician,
        clinician_email=clinician.email,
        kind=Grant.Kind.CODE,
        code_hash=codes.code_hash(codes.new_code()),
        offer_expires_at=now,
        accepted_at=now,
        created_at=now,
        expires_at=now + timedelta(days=DEFAULT_DAYS),
    )
