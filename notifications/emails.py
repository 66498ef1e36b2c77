"""Rendering the weekly email, and the signed links it carries.

Three Django templates (templates/emails/digest-subject.txt, digest.txt, digest.html), sent as a Django
EmailMultiAlternatives. Unsubscribe follows RFC 8058: a List-Unsubscribe URL plus List-Unsubscribe-Post,
so mail clients can unsubscribe with one POST. The links' signed tokens identify the person without a
login; a tampered token is refused.
"""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .digest import PAUSE_AFTER, Digest, links

SALT = "cramptrack.digest-email"
RED_FLAG_SALT = "cramptrack.red-flag-seen"
RED_FLAG_LINK_DAYS = 60  # an old email's "I've seen someone" link stops working after this


def signed(value, salt: str) -> str:
    """A link's token: `value` signed with SECRET_KEY under a salt of its own, so no link's token opens
    another link's page."""
    return signing.dumps(value, salt=salt)


def unsigned(token: str, salt: str, max_age_days: int | None = None):
    """The value a token carries, or None if it was tampered with, made for another salt or has expired."""
    try:
        return signing.loads(token, salt=salt, max_age=max_age_days * 24 * 3600 if max_age_days else None)
    except signing.BadSignature:  # also an expired one
        return None


def email_token(user_id: int) -> str:
    return signed(user_id, SALT)


def user_id_from_token(token: str) -> int | None:
    value = unsigned(token, SALT)
    return value if isinstance(value, int) else None


def red_flag_token(user_id: int, flag: str) -> str:
    return signed([user_id, flag], RED_FLAG_SALT)


def red_flag_from_token(token: str) -> tuple[int, str] | None:
    match unsigned(token, RED_FLAG_SALT, RED_FLAG_LINK_DAYS):
        case [int(user_id), str(flag)]:
            return user_id, flag
    return None


def unsubscribe_url(user_id: int, token: str | None = None) -> str:
    return settings.SITE_URL + reverse("email-unsubscribe", args=[token or email_token(user_id)])


def preferences_url(user_id: int, token: str | None = None) -> str:
    return settings.SITE_URL + reverse("email-preferences", args=[token or email_token(user_id)])


def red_flag_url(user_id: int, flag: str) -> str:
    return settings.SITE_URL + reverse("email-red-flag-seen", args=[red_flag_token(user_id, flag)])


def render_digest(user, digest: Digest, token: str = "") -> tuple[str, str, str]:
    """The subject, plain text and HTML of one person's weekly email."""
    token = token or email_token(user.pk)  # one signature for the unsubscribe and preferences links
    context = {
        "digest": digest,
        "week": digest.week,
        "notices": [{"notice": n, "seen_url": red_flag_url(user.pk, n.flag) if n.flag else ""} for n in digest.notices],
        "links": links(),
        "pause_after": PAUSE_AFTER,
        "unsubscribe_url": unsubscribe_url(user.pk, token),
        "preferences_url": preferences_url(user.pk, token),
        "site_name": settings.SITE_NAME,
    }
    subject = " ".join(render_to_string("emails/digest-subject.txt", context).split())
    return subject, render_to_string("emails/digest.txt", context), render_to_string("emails/digest.html", context)


def digest_message(user, digest: Digest, delivery_id: int, connection=None) -> EmailMultiAlternatives:
    token = email_token(user.pk)
    subject, text, html = render_digest(user, digest, token)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url(user.pk, token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # One Message-ID per delivery row: a resend after a crash is recognisably the same email.
            "Message-ID": f"<digest-{delivery_id}-{digest.week_start:%Y%m%d}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
