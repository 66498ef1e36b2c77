"""The account over the API: tokens for API clients (log in, log out) and erasing the account."""

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.models import Authenticator
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox import views as knox_views
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.allauth_compat import rate_limit_windows
from cramptrack.ratelimit import allauth_retry_after, too_many


class TokenView(APIView):
    """Exchange email and password for an API token (for API clients; the PWA uses its session)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {
                "email": serializers.EmailField(),
                "password": serializers.CharField(),
                "code": serializers.CharField(required=False, help_text="TOTP code, if two-factor is on"),
            },
        ),
        responses={
            201: inline_serializer(
                "TokenResponse",
                {"token": serializers.CharField(), "expiry": serializers.DateTimeField(allow_null=True)},
            ),
            400: OpenApiResponse(description="a missing or wrong two-factor code"),
            401: OpenApiResponse(description="wrong email or password"),
            429: OpenApiResponse(description="too many tries from this address or for this email; see Retry-After"),
        },
    )
    def post(self, request):
        email = request.data.get("email", "") if isinstance(request.data, dict) else ""
        password = request.data.get("password", "") if isinstance(request.data, dict) else ""
        # The login page's limits, in the same cache buckets: allauth's per-address "login"
        # limit, and (inside the adapter's authenticate) the failed-login limit per address
        # and per email, so the API is no way round the login page's brute-force limits.
        # allauth is handed DRF's request, which passes every attribute through to Django's.
        if not ratelimit.consume(request, action="login"):
            return too_many(request, allauth_retry_after(request))
        try:
            user = get_adapter(request).authenticate(request, email=str(email).lower(), password=str(password))
        except ImmediateHttpResponse as refused:  # too many failed logins
            return refused.response
        if user is None:
            # 401, not 400: the request was well formed, the credentials were not right.
            wrong = Response({"detail": "Email or password is wrong."}, status=status.HTTP_401_UNAUTHORIZED)
            wrong["WWW-Authenticate"] = 'Token realm="api"'
            return wrong
        # With two-factor on, a password alone must not open a door the login page keeps shut,
        # and codes are not guessed here faster than there: allauth's code form counts each try
        # in the person's "login_failed" bucket (5 per 5 minutes) and empties it on success.
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        code = str(request.data.get("code", "")) if isinstance(request.data, dict) else ""
        if totp is not None:
            bucket = f"mfa-auth-user-{user.pk}"  # allauth's own key, so page and API share one count
            if not ratelimit.consume(request, action="login_failed", key=bucket):
                return too_many(request, code_retry_after(), "Too many two-factor codes; please wait and retry.")
            if not totp.wrap().validate_code(code):
                raise ValidationError({"code": ["Two-factor authentication is on: send the app's 6-digit code."]})
            ratelimit.clear(request, action="login_failed", key=bucket)
        instance, token = AuthToken.objects.create(user)
        return Response({"token": token, "expiry": instance.expiry}, status=status.HTTP_201_CREATED)


def code_retry_after() -> int:
    return int(max(rate_limit_windows("login_failed"), default=300))


@extend_schema(request=None, responses={204: None})
class TokenLogoutView(knox_views.LogoutView):
    """Revoke the token this request came with."""


class AccountErasureMixin:
    """DELETE on the view of your own account (`me/`): erase the account and everything of yours.

    A mixin because `me/` is one URL: the diary's profile view answers its other methods."""

    @extend_schema(
        request=inline_serializer("DeleteAccount", {"password": serializers.CharField()}), responses={204: None}
    )
    def delete(self, request):
        password = request.data.get("password", "") if isinstance(request.data, dict) else ""
        if not request.user.check_password(password):
            raise ValidationError({"password": ["Enter your password to delete your account."]})
        with transaction.atomic():
            request.user.delete()  # every row of theirs goes with it (accounts.erasure)
        # This browser's session too (a session row holds the user's id but no foreign key).
        if hasattr(request, "session"):
            request.session.flush()
        return Response(status=status.HTTP_204_NO_CONTENT)
