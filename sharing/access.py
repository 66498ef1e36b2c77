"""The one access check for clinician reads, and the access log it writes.

Every clinician page and API view calls `grant_or_404` first: no active grant
(none, another patient's, expired, revoked, a practice's the clinician is not a
member of, or a scope the patient left out) is a 404 that says nothing about
whether the patient exists. The log row, naming the clinician who read, is
written only after the check passes, by `record_view`.
"""

import uuid
from datetime import datetime
from functools import partial

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from .emails import notify_first_view
from .mfa import is_clinician
from .models import SCOPES, AccessLog, Grant


def grant_or_404(clinician, share_id, scope: str | None = None, now: datetime | None = None) -> Grant:
    """The clinician's active grant named by `share_id` (the grant's public uuid), to them or to a
    practice they are a member of, checked now, in SQL."""
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if not is_clinician(clinician):
        raise Http404
    try:
        share_uuid = uuid.UUID(str(share_id))
    except ValueError:
        raise Http404 from None
    grant = (
        Grant.objects.active_for(clinician, now=now)
        .select_related("patient__profile", "practice")
        .filter(uuid=share_uuid)
        .first()
    )
    if grant is None or (scope is not None and not getattr(grant, scope)):
        raise Http404
    return grant


def active_grants(clinician, now: datetime | None = None) -> list[Grant]:
    if not is_clinician(clinician):
        raise Http404
    return list(Grant.objects.active_for(clinician, now=now).select_related("patient__profile", "practice"))


def record_view(grant: Grant, reader, what: str, detail: str = "", now: datetime | None = None) -> AccessLog:
    return record_views([grant], reader, what, detail, now)[0]


def record_views(
    grants: list[Grant], reader, what: str, detail: str = "", now: datetime | None = None
) -> list[AccessLog]:
    """Write one log row per grant read by `reader` (the clinician, or the practice member, who
    looked), and tell each patient about the first view of their share."""
    now = now or timezone.now()
    rows = AccessLog.objects.bulk_create(
        AccessLog(
            grant=grant,
            patient_id=grant.patient_id,
            clinician=reader,
            clinician_email=reader.email,
            what=what,
            detail=detail[:200],
            at=now,
        )
        for grant in grants
    )
    for grant in grants:
        if grant.first_view_notified_at is None:
            Grant.objects.filter(pk=grant.pk, first_viewed_at__isnull=True).update(first_viewed_at=now)
            transaction.on_commit(partial(notify_first_view, grant.pk))
    return rows
