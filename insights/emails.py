"""Rendering the weekly email, and the signed links it carries.

Three Django templates per email (templates/emails/digest-subject.txt, digest.txt,
digest.html), sent as a Django EmailMultiAlternatives. Unsubscribe follows
RFC 8058: a List-Unsubscribe URL plus List-Unsubscribe-Post, so mail clients can
unsubscribe with one POST; the URL's signed token identifies the person without a
login, and a tampered token is refused.
"""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .digest import Digest, links

SALT = "cramptrack.digest-email"


def email_token(user_id: int) -> str:
    return signing.dumps(user_id, salt=SALT)


def user_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def unsubscribe_url(user_id: int, token: str | None = None) -> str:
    return settings.SITE_URL + reverse("email-unsubscribe", args=[token or email_token(user_id)])


def preferences_url(user_id: int, token: str | None = None) -> str:
    return settings.SITE_URL + reverse("email-preferences", args=[token or email_token(user_id)])


def digest_message(user, digest: Digest, delivery_id: int, connection=None) -> EmailMultiAlternatives:
    token = email_token(user.pk)  # one signature for both links
    context = {
        "digest": digest,
        "week": digest.week,
        "links": links(),
        "unsubscribe_url": unsubscribe_url(user.pk, token),
        "preferences_url": preferences_url(user.pk, token),
        "site_name": settings.SITE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string("emails/digest-subject.txt", context).split()),
        body=render_to_string("emails/digest.txt", context),
        to=[user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # One Message-ID per delivery row: a resend after a crash is recognisably the same email.
            "Message-ID": f"<digest-{delivery_id}-{digest.week_start:%Y%m%d}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("emails/digest.html", context), "text/html")
    return message
