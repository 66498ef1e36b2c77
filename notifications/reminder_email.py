"""The reminder's email fallback: "Any cramps last night?" with a signed link that answers "no cramps" for
that night (templates/emails/reminder*.txt; the link's page is notifications.reminder_views)."""

from datetime import date

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

SALT = "cramptrack.reminder-no-cramps"
LINK_DAYS = 7  # after a week the night is better answered in the app, with its details


def no_cramps_token(user_id: int, night: date) -> str:
    return signing.dumps([user_id, night.isoformat()], salt=SALT)


def night_from_token(token: str) -> tuple[int, date] | None:
    try:
        value = signing.loads(token, salt=SALT, max_age=LINK_DAYS * 24 * 3600)
    except signing.BadSignature:  # also an expired one
        return None
    match value:
        case [int(user_id), str(night)]:
            try:
                return user_id, date.fromisoformat(night)
            except ValueError:
                return None
    return None


def reminder_message(user, night: date, delivery_id: int, connection=None) -> EmailMessage:
    context = {
        "night": night,
        "no_cramps_url": settings.SITE_URL + reverse("email-no-cramps", args=[no_cramps_token(user.pk, night)]),
        "cramp_url": f"{settings.SITE_URL}/episode/",
        "settings_url": f"{settings.SITE_URL}/settings/",
        "site_name": settings.SITE_NAME,
    }
    return EmailMessage(
        subject=" ".join(render_to_string("emails/reminder-subject.txt", context).split()),
        body=render_to_string("emails/reminder.txt", context),
        to=[user.email],
        connection=connection,
        headers={
            # One Message-ID per delivery row: a resend after a crash is recognisably the same email.
            "Message-ID": f"<reminder-{delivery_id}-{night:%Y%m%d}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
        },
    )
