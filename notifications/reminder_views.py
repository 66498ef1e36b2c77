"""The reminder email's links: "No cramps" and the one-click "stop these emails". The signed token is the
credential; a GET only shows a page with a button, the POST acts. "No cramps" records the cramp-free night
through the check-in write path (an upsert by date, so once)."""

import contextlib

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ValidationError

from diary.models import CheckIn, Episode, Profile
from diary.recording import Conflict, upsert_checkin

from .models import ReminderSettings
from .reminder_email import night_from_token, user_id_from_stop_token
from .reminders import checkin_uuid


def _bad_link(request) -> HttpResponse:
    return render(request, "email_links/bad_link.html", status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def no_cramps(request, token):
    found = night_from_token(token)
    profile = Profile.objects.select_related("user").filter(user_id=found[0]).first() if found else None
    if found is None or profile is None:
        return _bad_link(request)
    night = found[1]
    context = {"token": token, "night": night}
    answered_cramps = CheckIn.objects.filter(user_id=profile.user_id, date=night, no_cramps=False).exists()
    # A page loaded before the person answered "I had cramps" in the app must not overwrite that answer.
    if request.method == "POST" and not answered_cramps:
        data = {"date": night.isoformat(), "no_cramps": True, "id": str(checkin_uuid(profile.user_id, night))}
        # A cramp logged for that night since refuses the answer: the page says so below.
        with contextlib.suppress(ValidationError, Conflict):
            upsert_checkin(profile.user, data)
    stored = CheckIn.objects.filter(user_id=profile.user_id, date=night).first()
    context["cramps"] = Episode.objects.filter(user_id=profile.user_id, night=night).count()
    context["answer"] = stored.no_cramps if stored else None
    return render(request, "email_links/no_cramps.html", context)


# Mail clients send RFC 8058 one-click POSTs without a CSRF token; the signed token is the credential.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def stop_email(request, token):
    """Turn the reminder email off (the fallback); push reminders on the person's devices stay as they are."""
    user_id = user_id_from_stop_token(token)
    profile = Profile.objects.select_related("user").filter(user_id=user_id).first() if user_id else None
    if profile is None:
        return _bad_link(request)
    context = {"token": token, "email": profile.user.email, "stopped": request.method == "POST"}
    if context["stopped"]:
        ReminderSettings.objects.filter(user_id=profile.user_id).update(email_fallback=False, updated_at=timezone.now())
    # A GET only shows a confirmation: link scanners and prefetchers must not turn anything off.
    return render(request, "email_links/reminder_email_off.html", context)
