"""The account over the API (accounts.api): API tokens, and erasing the account at DELETE /api/v1/me/."""

import time
from datetime import UTC, date, datetime

import pyotp
import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.allauth_compat import activate_totp
from accounts.models import User
from diary.models import CheckIn, Episode, MedicationCourse, Profile

pytestmark = pytest.mark.django_db


def test_deleting_the_account_needs_the_password_and_erases_the_diary(alice_api, alice, bob):
    Episode.objects.create(user=alice, started_at=datetime(2026, 11, 3, 3, tzinfo=UTC), muscle="calf", side="left")
    Episode.objects.create(user=bob, started_at=datetime(2026, 11, 3, 3, tzinfo=UTC), muscle="calf", side="left")
    CheckIn.objects.create(user=alice, date=date(2026, 11, 2), no_cramps=False)
    MedicationCourse.objects.create(user=alice, name="x", drug_class="statin", started_on=date(2026, 1, 1))

    refused = alice_api.delete("/api/v1/me/", {"password": "wrong"}, format="json")
    assert refused.status_code == 400
    assert User.objects.filter(pk=alice.pk).exists()

    assert alice_api.delete("/api/v1/me/", {"password": "correct horse battery"}, format="json").status_code == 204
    assert not User.objects.filter(pk=alice.pk).exists()
    assert Episode.objects.filter(user_id=alice.pk).count() == 0
    assert CheckIn.objects.filter(user_id=alice.pk).count() == 0
    assert MedicationCourse.objects.filter(user_id=alice.pk).count() == 0
    assert Profile.objects.filter(user_id=alice.pk).count() == 0
    assert Episode.objects.filter(user=bob).count() == 1


def test_an_api_client_gets_a_token_and_uses_it(alice):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"email": "ALICE@example.org", "password": "correct horse battery"}, format="json"
    )
    assert response.status_code == 201, response.data
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.data['token']}")
    assert client.get("/api/v1/me/").data["email"] == "alice@example.org"
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401


def test_a_wrong_password_gets_no_token(alice):
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": "alice@example.org", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert "token" not in response.data


def test_two_factor_codes_cannot_be_guessed_at_the_token_endpoint(alice):
    """The right password with wrong codes: allauth's own limit (5 per 5 minutes), then a 429 with
    Retry-After, and then not even the right code gets a token until the window passes."""
    secret = pyotp.random_base32()
    activate_totp(alice, secret)
    client = APIClient()

    def ask(code: str):
        return client.post(
            "/api/v1/auth/token/",
            {"email": "alice@example.org", "password": "correct horse battery", "code": code},
            format="json",
        )

    right = pyotp.TOTP(secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert [ask(wrong).status_code for _ in range(5)] == [400] * 5
    refused = ask(wrong)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 60
    assert ask(right).status_code == 429
    assert not AuthToken.objects.filter(user=alice).exists()


def test_a_right_code_resets_the_count(alice):
    secret = pyotp.random_base32()
    activate_totp(alice, secret)
    client = APIClient()
    body = {"email": "alice@example.org", "password": "correct horse battery"}
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"

    def ask(code: str) -> int:
        return client.post("/api/v1/auth/token/", {**body, "code": code}, format="json").status_code

    assert [ask(wrong) for _ in range(3)] == [400] * 3
    assert ask(pyotp.TOTP(secret).now()) == 201
    assert [ask(wrong) for _ in range(4)] == [400] * 4  # 3 + 4 would be past the limit without the reset


def test_a_code_that_arrives_just_after_its_step_ends_still_works(alice):
    """Typed at second 29 and received at second 31: one step of tolerance (RFC 6238 section 5.2),
    and no more."""
    secret = pyotp.random_base32()
    activate_totp(alice, secret)
    body = {"email": "alice@example.org", "password": "correct horse battery"}
    if time.time() % 30 > 28:  # not astride a step boundary, so "one step back" stays one step back
        time.sleep(3)
    now = time.time()
    older = APIClient().post("/api/v1/auth/token/", {**body, "code": pyotp.TOTP(secret).at(now - 65)}, format="json")
    assert older.status_code == 400
    late = APIClient().post("/api/v1/auth/token/", {**body, "code": pyotp.TOTP(secret).at(now - 30)}, format="json")
    assert late.status_code == 201
