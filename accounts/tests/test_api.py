"""The account over the API (accounts.api): API tokens, and erasing the account at DELETE /api/v1/me/."""

from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

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
