"""The two sharing emails: the invitation (to the clinician) and the first-view notice (to the patient).

Three templates each (subject, text, html) under templates/sharing/emails/.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import AccessLog, Grant

log = logging.getLogger(__name__)


def _message(name: str, context: dict, to: str, headers: dict | None = None) -> EmailMultiAlternatives:
    context = {**context, "site_name": settings.SITE_NAME, "site_url": settings.SITE_URL}
    subject = " ".join(render_to_string(f"sharing/emails/{name}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"sharing/emails/{name}.txt", context),
        to=[to],
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
    )
    message.attach_alternative(render_to_string(f"sharing/emails/{name}.html", context), "text/html")
    return message


def accept_url(token: str) -> str:
    return settings.SITE_URL + reverse("sharing-accept", args=[token])


def send_invitation(grant: Grant, token: str) -> None:
    """To the invited address only: the link is the credential, so it goes nowhere else."""
    context = {"grant": grant, "patient": grant.patient, "accept_url": accept_url(token)}
    _message("invitation", context, grant.invited_email).send()


def notify_first_view(grant_id: int, now=None) -> bool:
    """Tell the patient the first time a clinician opens their shared diary; at most once per grant.

    Claim, then send: the conditional UPDATE lets one request through. If SMTP
    fails the claim is released, so the clinician's next view tries again; the
    clinician's request itself never fails because of it.
    """
    now = now or timezone.now()
    claimed = Grant.objects.filter(
        Q(pk=grant_id), Q(first_view_notified_at__isnull=True), Q(first_viewed_at__isnull=False)
    ).update(first_view_notified_at=now)
    if not claimed:
        return False
    try:
        grant = Grant.objects.select_related("patient", "practice").get(pk=grant_id)
        first = AccessLog.objects.filter(grant=grant).order_by("at", "id").first()
        shares_url = settings.SITE_URL + reverse("sharing")
        # Who looked: for a practice, the member who opened it, not the one who accepted.
        reader = first.clinician_email if first else grant.clinician_email
        context = {"grant": grant, "patient": grant.patient, "first": first, "reader": reader, "shares_url": shares_url}
        _message("first-view", context, grant.patient.email).send()
    except Exception:
        log.exception("first-view email for grant %s failed; will retry on the next view", grant_id)
        Grant.objects.filter(pk=grant_id).update(first_view_notified_at=None)
        return False
    return True
