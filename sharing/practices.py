"""Practices: a GP surgery or a clinic that patients share with, and the clinicians who read for it.

Any clinician may open a practice and is its first admin. An admin adds members (by the address
of an existing clinician account), removes them and makes other admins; a practice always keeps
an admin. Membership is read in SQL by every access check (Grant.objects.active_for), so a
removed member's next request is refused.

Every change takes a lock on the practice row first, so changes to one practice queue: two
admins removing each other cannot leave it without one.
"""

import uuid

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from .models import Practice, PracticeMembership

Role = PracticeMembership.Role


class PracticeError(Exception):
    """A membership change that is refused; the message is safe to show."""


def memberships_of(clinician) -> QuerySet[PracticeMembership]:
    """The clinician's own memberships, with their practices, by practice name."""
    return PracticeMembership.objects.filter(user=clinician).select_related("practice").order_by("practice__name")


def practice_of(clinician, practice_id: uuid.UUID) -> Practice | None:
    membership = memberships_of(clinician).filter(practice__uuid=practice_id).first()
    return membership.practice if membership else None


def membership_or_404(clinician, practice_id: uuid.UUID) -> PracticeMembership:
    """The clinician's membership of the practice; another practice is a 404."""
    membership = memberships_of(clinician).filter(practice__uuid=practice_id).first()
    if membership is None:
        raise Http404
    return membership


def members(practice: Practice) -> QuerySet[PracticeMembership]:
    return practice.memberships.select_related("user").order_by("user__email")


@transaction.atomic
def create_practice(clinician, name: str) -> Practice:
    practice = Practice.objects.create(name=name.strip())
    PracticeMembership.objects.create(practice=practice, user=clinician, role=Role.ADMIN)
    return practice


def admin_practice(actor, practice_id: uuid.UUID, lock: bool = False, admin: bool = True) -> Practice:
    """The practice, if `actor` is one of its admins now (any member, with admin=False): a non-member
    gets a 404, a member who is not an admin a 403. With `lock` (inside a transaction), the practice
    row stays locked until the transaction ends."""
    practice_rows = Practice.objects.filter(uuid=practice_id)
    if lock:
        practice_rows = practice_rows.select_for_update(of=("self",))
    practice = practice_rows.first()
    if practice is None:
        raise Http404
    role = practice.memberships.filter(user=actor).values_list("role", flat=True).first()
    if role is None:
        raise Http404
    if admin and role != Role.ADMIN:
        raise PermissionDenied("Only the practice's admins manage its members.")
    return practice


@transaction.atomic
def add_member(actor, practice_id: uuid.UUID, email: str) -> PracticeMembership:
    practice = admin_practice(actor, practice_id, lock=True)
    clinician = get_user_model().objects.filter(email__iexact=email.strip(), role="clinician").first()
    if clinician is None:
        # The same words for a patient's address as for an unknown one: nothing about patients leaks.
        raise PracticeError(f"There is no clinician account for {email}. Ask them to sign up as a clinician first.")
    # Anyone can sign up under a colleague's address; only its owner can confirm it. Unconfirmed, the
    # account would read every patient shared with the practice under a name that is not theirs.
    if not EmailAddress.objects.filter(user=clinician, email__iexact=clinician.email, verified=True).exists():
        raise PracticeError(
            f"{clinician.email} has not confirmed their address yet. Ask them to follow the link in the email "
            "CrampTrack sent them (or to request a new one from their account page), then add them."
        )
    membership, created = PracticeMembership.objects.get_or_create(practice=practice, user=clinician)
    if not created:
        raise PracticeError(f"{clinician.email} is already a member.")
    return membership


@transaction.atomic
def remove_member(actor, practice_id: uuid.UUID, membership_id: int) -> PracticeMembership:
    """An admin removes a member, or any member leaves: their access to the practice's patients ends
    with their next request."""
    leaving = PracticeMembership.objects.filter(pk=membership_id, user=actor).exists()
    practice = admin_practice(actor, practice_id, lock=True, admin=not leaving)
    membership = practice.memberships.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    if membership.is_admin and not practice.memberships.filter(role=Role.ADMIN).exclude(pk=membership.pk).exists():
        raise PracticeError("A practice needs an admin: make someone else an admin first.")
    membership.delete()
    return membership


@transaction.atomic
def make_admin(actor, practice_id: uuid.UUID, membership_id: int) -> PracticeMembership:
    practice = admin_practice(actor, practice_id, lock=True)
    membership = practice.memberships.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    if not membership.is_admin:
        membership.role = Role.ADMIN
        membership.save(update_fields=["role"])
    return membership
