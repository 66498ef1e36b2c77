"""Rate limits on login, sign-up, password reset, the API token endpoint and share codes:
each a 429 with Retry-After, counted in the real Redis, keyed on the client address that
TRUSTED_PROXY_COUNT says to believe."""

import redis
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import in_one_window
from cramptrack.ratelimit import Limit, hit
from sharing import grants, limits
from sharing.tests.conftest import make_clinician, signed_in

WRONG = "not the password at all"


def login(client, email, password=WRONG, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def test_the_limits_live_in_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert hit(Limit("probe", 5, 60), "someone") == 0
    keys = list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match="*ratelimit:probe:someone:*"))
    assert len(keys) == 1


def test_a_fixed_window_says_when_it_reopens():
    limit = Limit("window", 2, 10)
    assert [hit(limit, "w", now=1000.0), hit(limit, "w", now=1001.0)] == [0, 0]
    assert hit(limit, "w", now=1002.5) == 8  # the window 1000-1010 is used up
    assert hit(limit, "w", now=1009.5) == 1
    assert hit(limit, "w", now=1010.0) == 0  # a new window


def test_failed_logins_end_in_429_even_for_the_right_password(client, alice):
    answers = [login(client, alice.email) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5  # the form, with its error
    refused = login(client, alice.email)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "300"
    assert b"Too many" in refused.content
    assert login(client, alice.email, "correct horse battery").status_code == 429
    # Another address is not locked out by alice's attacker.
    assert login(client, "bob@example.org").status_code == 200


def test_a_successful_login_does_not_use_up_the_budget(client, alice):
    for _ in range(8):
        assert login(Client(), alice.email, "correct horse battery").status_code == 302


def test_signup_is_limited_per_address(db, client):
    statuses = [client.post("/accounts/signup/", {"email": f"x{i}@example.org"}).status_code for i in range(21)]
    assert statuses == [200] * 20 + [429]  # invalid forms (no password) count too


def test_password_reset_is_limited_per_email(client, alice):
    statuses = [client.post("/accounts/password/reset/", {"email": alice.email}).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(mail.outbox) == 5


def test_the_token_endpoint_shares_the_login_budget(alice):
    api = APIClient()
    url = reverse("token")
    answers = [api.post(url, {"email": alice.email, "password": WRONG}, format="json") for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    refused = api.post(url, {"email": alice.email, "password": "correct horse battery"}, format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["detail"].startswith("Too many")
    assert refused["Retry-After"] == "300"
    # ...and the login page is shut for that address too: the API is no way round it.
    assert login(Client(), alice.email, "correct horse battery").status_code == 429


def test_the_token_endpoint_still_issues_tokens(alice):
    response = APIClient().post(
        reverse("token"), {"email": alice.email, "password": "correct horse battery"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["token"]


def test_forwarded_for_is_ignored_without_a_trusted_proxy(db, settings, client):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    statuses = [
        client.post("/accounts/signup/", {"email": f"y{i}@example.org"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        for i in range(21)
    ]
    # Every request came from one REMOTE_ADDR, whatever the header claimed.
    assert [s.status_code for s in statuses] == [200] * 20 + [429]


def test_behind_a_trusted_proxy_each_client_address_counts_separately(db, settings, client):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    first = [
        client.post("/accounts/signup/", {"email": f"z{i}@example.org"}, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code
        for i in range(21)
    ]
    assert first == [200] * 20 + [429]
    # The proxy appends the address it saw; whatever the client put in front is not believed.
    spoofed = client.post(
        "/accounts/signup/", {"email": "s@example.org"}, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7"
    )
    assert spoofed.status_code == 429
    other = client.post("/accounts/signup/", {"email": "o@example.org"}, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 200


def test_share_code_tries_count_per_client_address_behind_a_proxy(settings, alice):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    grants.create_code(alice, {}, timezone.now() + timezone.timedelta(days=90))
    clinicians = [make_clinician(f"g{i}@x.example") for i in range(3)]
    in_one_window(limits.CODE_ATTEMPTS_PER_USER, limits.CODE_ATTEMPTS_PER_IP)
    statuses = []
    for i in range(21):
        page = signed_in(clinicians[i % 3]).post(
            reverse("clinician-redeem"), {"code": "ZZZZ-ZZZZ"}, HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
        statuses.append(page.status_code)
    assert statuses == [400] * 20 + [429]
    elsewhere = signed_in(clinicians[0]).post(
        reverse("clinician-redeem"), {"code": "ZZZZ-ZZZZ"}, HTTP_X_FORWARDED_FOR="203.0.113.10"
    )
    assert elsewhere.status_code == 400  # a different address, an account still under its own limit
