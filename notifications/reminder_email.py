"""The reminder's email fallback: "Any cramps last night?" with a signed link that answers "no cramps" for
that night, and RFC 8058 one-click unsubscribe headers whose signed link turns the reminder email off
(templates/emails/reminder*.txt; the links' pages are notifications.reminder_views)."""

from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from .emails import signed, unsigned

SALT = "cramptrack.reminder-no-cramps"
LINK_DAYS = 7  # after a week the night is better answered in the app, with its details
# Its own salt: the weekly email's unsubscribe token cannot stop reminders, nor this one the weekly email.
STOP_SALT = "cramptrack.reminder-email-off"


def no_cramps_token(user_id: int, night: date) -> str:
    return signed([user_id, night.isoformat()], SALT)


def night_from_token(token: str) -> tuple[int, date] | None:
    match unsigned(token, SALT, LINK_DAYS):
        case [int(user_id), str(night)]:
            try:
                return user_id, date.fromisoformat(night)
            except ValueError:
                return None
    return None


def stop_token(user_id: int) -> str:
    return signed(user_id, STOP_SALT)


def user_id_from_stop_token(token: str) -> int | None:
    """No expiry: an unsubscribe link must keep working however old the email is."""
    value = unsigned(token, STOP_SALT)
    return value if isinstance(value, int) else None


def stop_url(user_id: int) -> str:
    return settings.SITE_URL + reverse("email-reminder-off", args=[stop_token(user_id)])


def reminder_message(user, night: date, delivery_id: int, connection=None) -> EmailMessage:
    stop = stop_url(user.pk)
    context = {
        "night": night,
        "no_cramps_url": settings.SITE_URL + reverse("email-no-cramps", args=[no_cramps_token(user.pk, night)]),
        "cramp_url": f"{settings.SITE_URL}/episode/",
        "settings_url": f"{settings.SITE_URL}/settings/",
        "stop_url": stop,
        "site_name": settings.SITE_NAME,
    }
    return EmailMessage(
        subject=" ".join(render_to_string("emails/reminder-subject.txt", context).split()),
        body=render_to_string("emails/reminder.txt", context),
        to=[user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{stop}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # One Message-ID per delivery row: a resend after a crash is recognisably the same email.
            "Message-ID": f"<reminder-{delivery_id}-{night:%Y%m%d}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
        },
    )
