"""allauth's adapter: too many failed logins is a 429, not a form error; clinicians land on their dashboard."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.core.exceptions import ValidationError
from django.urls import reverse

from cramptrack.ratelimit import too_many

from .allauth_compat import rate_limit_windows

# "Successfully signed in as …": the app (or the clinician's dashboard) opening says so already,
# and it is the one allauth message that would greet someone at 3 a.m. on the log page.
UNSHOWN_MESSAGES = {"account/messages/logged_in.txt"}


class AccountAdapter(DefaultAccountAdapter):
    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        if message_template in UNSHOWN_MESSAGES:
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def get_login_redirect_url(self, request):
        # The phone app's log page means nothing to a clinician: they come for shared diaries.
        if getattr(request.user, "is_clinician", False):
            return reverse("clinician-dashboard")
        return super().get_login_redirect_url(request)

    def pre_authenticate(self, request, **credentials):
        # allauth answers an exhausted login_failed limit with a 200 and a form error; clients,
        # proxies and the API token endpoint (which authenticates through here too) need a 429.
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:  # its only error is "too many login attempts"
            raise ImmediateHttpResponse(
                too_many(request, self.login_failed_retry_after(), "Too many failed logins; please wait and retry.")
            ) from None

    @staticmethod
    def login_failed_retry_after() -> int:
        return int(max(rate_limit_windows("login_failed"), default=300))
