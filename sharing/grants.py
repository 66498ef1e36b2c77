"""What patients and clinicians do with grants: offer, accept (for oneself or for a practice), revoke.

Used by both the API and the server-rendered pages, so the rules live here once.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from diary.localtime import local_today

from . import codes
from .models import CODE_VALID_FOR, DEFAULT_DAYS, INVITATION_VALID_FOR, MAX_DAYS, SCOPES, Grant, Practice


class OfferError(Exception):
    """An invitation or code that cannot be accepted; the message is safe to show."""


INVALID_CODE = "That code is not valid. A code works once, within 24 hours of being made."
INVALID_INVITATION = "This invitation link is not valid any more. Ask your patient for a new one."


def default_last_day(zone: ZoneInfo) -> date:
    return local_today(zone) + timedelta(days=DEFAULT_DAYS)


def last_day_bounds(zone: ZoneInfo) -> tuple[date, date]:
    today = local_today(zone)
    return today, today + timedelta(days=MAX_DAYS)


def expiry_after(last_day: date, zone: ZoneInfo) -> datetime:
    """Access lasts to the end of `last_day` in the patient's own zone."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)


def _scope(scope: dict) -> dict:
    return {name: bool(scope[name]) for name in SCOPES if name in scope}


def create_invitation(patient, email: str, scope: dict, expires_at: datetime, now: datetime | None = None):
    """A grant waiting for the clinician at `email`, and the token for the emailed link."""
    now = now or timezone.now()
    token = codes.new_token()
    grant = Grant.objects.create(
        patient=patient,
        kind=Grant.Kind.INVITATION,
        invited_email=email.strip().lower(),
        token_hash=codes.token_hash(token),
        offer_expires_at=min(now + INVITATION_VALID_FOR, expires_at),
        expires_at=expires_at,
        created_at=now,
        **_scope(scope),
    )
    return grant, token


def create_code(patient, scope: dict, expires_at: datetime, now: datetime | None = None):
    """A grant waiting for whoever types the code within 24 hours, and the code (shown once)."""
    now = now or timezone.now()
    for _ in range(5):
        code = codes.new_code()
        try:
            with transaction.atomic():
                grant = Grant.objects.create(
                    patient=patient,
                    kind=Grant.Kind.CODE,
                    code_hash=codes.code_hash(code),
                    offer_expires_at=min(now + CODE_VALID_FOR, expires_at),
                    expires_at=expires_at,
                    created_at=now,
                    **_scope(scope),
                )
        except IntegrityError:  # a collision with an earlier code's hash: draw again
            continue
        return grant, code
    raise RuntimeError("could not draw an unused share code")


@transaction.atomic
def _accept(lookup: dict, clinician, invalid: str, now: datetime, practice: Practice | None) -> Grant:
    """Accept for the clinician, or for `practice` (one they belong to): then every member reads."""
    if not getattr(clinician, "is_clinician", False):
        raise OfferError("Only clinician accounts can accept a shared diary.")
    if practice is not None and not practice.memberships.filter(user=clinician).exists():
        raise OfferError("You are not a member of that practice.")
    # FOR UPDATE: two clinicians racing for one code queue here; the second finds it taken.
    grant = Grant.objects.open_offers(now).select_for_update().filter(**lookup).first()
    if grant is None:
        raise OfferError(invalid)
    if grant.kind == Grant.Kind.INVITATION and grant.invited_email.lower() != clinician.email.lower():
        raise OfferError(f"This invitation was sent to another address. Log in as {grant.invited_email} to accept it.")
    # A clinician (or a practice) holds one grant per patient: the new one replaces any earlier one.
    # Acceptances of two offers from one patient (two members of a practice, each with a code) queue on
    # the patient's row, so the second sees the first's grant and replaces it.
    get_user_model().objects.select_for_update().filter(pk=grant.patient_id).first()
    holder = {"practice": practice} if practice is not None else {"clinician": clinician}
    Grant.objects.filter(patient=grant.patient, revoked_at__isnull=True, **holder).update(revoked_at=now)
    grant.clinician = None if practice is not None else clinician
    grant.practice = practice
    grant.clinician_email = clinician.email  # who accepted, for the patient's page
    grant.accepted_at = now
    grant.save(update_fields=["clinician", "practice", "clinician_email", "accepted_at"])
    return grant


def accepted_message(grant: Grant) -> str:
    whom = f"{grant.practice_name} (all its members)" if grant.practice_name else "you"
    return f"{grant.patient.email} is now sharing their diary with {whom}."


def invitation_for(token: str, now: datetime | None = None) -> Grant | None:
    return (
        Grant.objects.open_offers(now)
        .select_related("patient")
        .filter(kind=Grant.Kind.INVITATION, token_hash=codes.token_hash(token))
        .first()
    )


def accept_invitation(token: str, clinician, practice: Practice | None = None, now: datetime | None = None) -> Grant:
    lookup = {"kind": Grant.Kind.INVITATION, "token_hash": codes.token_hash(token)}
    return _accept(lookup, clinician, INVALID_INVITATION, now or timezone.now(), practice)


def redeem_code(text: str, clinician, practice: Practice | None = None, now: datetime | None = None) -> Grant:
    code = codes.normalize_code(text)
    if code is None:
        raise OfferError(INVALID_CODE)
    lookup = {"kind": Grant.Kind.CODE, "code_hash": codes.code_hash(code)}
    return _accept(lookup, clinician, INVALID_CODE, now or timezone.now(), practice)


def revoke(grant: Grant, now: datetime | None = None) -> bool:
    """Effective on the clinician's next request: every access check reads revoked_at from the database."""
    now = now or timezone.now()
    changed = Grant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=now)
    grant.refresh_from_db(fields=["revoked_at"])
    return bool(changed)
