"""Each allauth internal that accounts.allauth_compat wraps, called and checked through allauth's
public side: an allauth upgrade that moves or changes one fails here, by name."""

import pyotp
import pytest
from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.test import RequestFactory

from accounts import allauth_compat
from conftest import make_user

pytestmark = pytest.mark.django_db


def test_rate_limit_windows_reads_allauth_s_configured_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "signup": "20/h/ip"}
    assert allauth_compat.rate_limit_windows("login_failed") == [60, 300]
    assert allauth_compat.rate_limit_windows("signup") == [3600]


def test_record_authentication_is_what_allauth_reads_back_for_that_user(client):
    alice, bob = make_user("alice@example.org"), make_user("bob@example.org")
    client.force_login(alice)
    request = RequestFactory().get("/")
    request.session, request.user = client.session, alice

    allauth_compat.record_authentication(request, alice, "mfa", type="totp")

    records = get_authentication_records(request, alice)
    assert [(record["method"], record["type"]) for record in records] == [("mfa", "totp")]
    assert get_authentication_records(request, bob) == []  # the record belongs to alice alone


def test_activate_totp_stores_a_key_that_allauth_checks_codes_against():
    alice = make_user("alice@example.org")
    secret = pyotp.random_base32()

    authenticator = allauth_compat.activate_totp(alice, secret)

    assert Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP) == authenticator
    totp, code = authenticator.wrap(), pyotp.TOTP(secret).now()
    assert not totp.validate_code(f"{(int(code) + 1) % 1_000_000:06d}")
    assert totp.validate_code(code)
