"""Pages reached from links in emails, without logging in: one-click unsubscribe, digest preferences and
"I've seen someone about this" for a red flag (templates/email_links/; templates/emails/ holds only emails).
The signed token in the link is the credential; a GET only shows a page, a POST changes something."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from diary.models import Profile
from insights.models import RedFlagAcknowledgement
from insights.red_flags import LABELS, acknowledge, reported_now

from .emails import red_flag_from_token, user_id_from_token

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def _profile(token: str) -> Profile | None:
    user_id = user_id_from_token(token)
    return Profile.objects.filter(user_id=user_id).first() if user_id else None


def _bad_link(request) -> HttpResponse:
    return render(request, "email_links/bad_link.html", status=400)


# Mail clients send RFC 8058 one-click POSTs without a CSRF token; the signed token is the credential.
@csrf_exempt
def unsubscribe(request, token):
    profile = _profile(token)
    if profile is None:
        return _bad_link(request)
    if request.method == "POST":
        profile.digest_enabled = False
        profile.save(update_fields=["digest_enabled", "updated_at"])
        return render(request, "email_links/unsubscribed.html", {"token": token})
    # GET only shows a confirmation: link scanners and prefetchers must not unsubscribe anyone.
    return render(request, "email_links/unsubscribe.html", {"token": token, "email": profile.user.email})


class DigestPreferencesForm(forms.ModelForm):
    digest_weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, label="Day")
    digest_hour = forms.TypedChoiceField(choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, label="Time")

    class Meta:
        model = Profile
        fields = ["digest_enabled", "digest_weekday", "digest_hour"]
        labels = {"digest_enabled": "Send me the weekly pattern email"}


def preferences(request, token):
    profile = _profile(token)
    if profile is None:
        return _bad_link(request)
    form = DigestPreferencesForm(request.POST or None, instance=profile)
    saved = False
    if request.method == "POST" and form.is_valid():
        profile = form.save(commit=False)
        if profile.digest_enabled:
            profile.resume_digest()
        profile.schedule_digest()
        profile.save()
        saved = True
    return render(request, "email_links/preferences.html", {"form": form, "saved": saved, "zone": profile.timezone})


@require_http_methods(["GET", "HEAD", "POST"])
def red_flag_seen(request, token):
    """The weekly email's "I've seen someone about this": a confirmation page, and a POST that records the
    same acknowledgement as the insights page's button."""
    found = red_flag_from_token(token)
    if found is None or not Profile.objects.filter(user_id=found[0]).exists():
        return _bad_link(request)
    user_id, flag = found
    context = {"token": token, "label": LABELS[flag]}
    if request.method == "POST":
        acknowledgement, _ = acknowledge(user_id, flag)
        if acknowledgement is None:
            return _bad_link(request)
        return render(request, "email_links/red_flag_seen_done.html", {**context, "acknowledgement": acknowledgement})
    reported = reported_now(user_id, flag)
    earlier = None if reported else RedFlagAcknowledgement.objects.filter(user_id=user_id, flag=flag).first()
    if reported is None and earlier is None:
        return _bad_link(request)
    return render(request, "email_links/red_flag_seen.html", {**context, "reported": reported, "earlier": earlier})
