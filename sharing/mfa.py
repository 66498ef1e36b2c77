"""Two-factor authentication for clinicians, on top of allauth.mfa.

Clinician pages and API views need a clinician account with TOTP set up and a
session that completed the TOTP step (allauth records each authentication step
in the session). Patients may enable TOTP too, from allauth's account pages.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from rest_framework import permissions
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.allauth_compat import record_authentication


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def completed_mfa(request: HttpRequest) -> bool:
    """Did this session pass a second factor (at login, re-authentication or TOTP set-up) within
    the last CLINICIAN_REAUTH_HOURS? Older, the clinician types a code again (allauth's
    re-authentication page), as on a shared practice computer left signed in.
    Takes Django's request or DRF's, which passes `session` through to Django's."""
    since = time.time() - settings.CLINICIAN_REAUTH_HOURS * 3600
    return any(
        record.get("method") == "mfa" and record.get("at", 0) >= since
        for record in get_authentication_records(request, request.user)
    )


@receiver(user_logged_in)
def shorten_clinician_sessions(sender, request, user, **kwargs):
    # A phone stays signed in for a season (SESSION_COOKIE_AGE); a clinician's session, which
    # opens other people's diaries, ends after CLINICIAN_SESSION_HOURS without use.
    if getattr(user, "is_clinician", False) and request is not None and hasattr(request, "session"):
        request.session.set_expiry(settings.CLINICIAN_SESSION_HOURS * 3600)


def is_clinician(user) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_clinician", False))


def clinician_required(view):
    """Page decorator: a clinician who set up TOTP and used it in this session; others get 404.
    Responses are never cached: they hold patient data."""

    @never_cache
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_clinician(request.user):
            raise Http404
        if not has_totp(request.user):
            messages.info(request, "Clinician accounts need two-factor authentication. Set it up to continue.")
            return redirect("mfa_activate_totp")
        if not completed_mfa(request):
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


class IsClinicianWithMfa(permissions.BasePermission):
    """API twin of clinician_required: anonymous 401/403, non-clinicians 404, no second factor 403."""

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False
        if not is_clinician(request.user):
            raise NotFound
        if not (has_totp(request.user) and completed_mfa(request)):
            raise PermissionDenied("Clinician access needs two-factor authentication in this session.")
        return True


@receiver(authenticator_added)
def count_totp_setup_as_second_factor(sender, request, user, authenticator, **kwargs):
    # Setting up TOTP means typing a valid code in this session, which is what the
    # login step proves; without this a new clinician would have to log in again.
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
