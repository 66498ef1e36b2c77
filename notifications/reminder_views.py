"""The reminder email's "No cramps" link: the signed token is the credential; a GET only shows a button,
the POST records the cramp-free night through the check-in write path, once (a stable client id)."""

import contextlib

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ValidationError

from diary.models import CheckIn, Episode, Profile
from diary.recording import Conflict, upsert_checkin

from .reminder_email import night_from_token
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
    if request.method == "POST":
        data = {"date": night.isoformat(), "no_cramps": True, "id": str(checkin_uuid(profile.user_id, night))}
        # A cramp logged for that night since refuses the answer: the page says so below.
        with contextlib.suppress(ValidationError, Conflict):
            upsert_checkin(profile.user, data)
    stored = CheckIn.objects.filter(user_id=profile.user_id, date=night).first()
    context["cramps"] = Episode.objects.filter(user_id=profile.user_id, night=night).count()
    context["answer"] = stored.no_cramps if stored else None
    return render(request, "email_links/no_cramps.html", context)
