import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import User
from conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long night of cramps"


def sign_up(client, email="carol@example.org", role="patient"):
    return client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "role": role})


def test_sign_up_creates_a_patient_with_a_profile_and_sends_a_verification_email(client):
    response = sign_up(client)
    assert response.status_code == 302
    user = User.objects.get(email="carol@example.org")
    assert user.role == "patient"
    assert user.profile.timezone == "UTC"
    assert user.password.startswith("argon2")
    assert len(mail.outbox) == 1
    assert "carol@example.org" in mail.outbox[0].to
    assert not EmailAddress.objects.get(user=user).verified


def test_the_emailed_link_verifies_the_address(client):
    sign_up(client)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client.post("/" + path)
    assert EmailAddress.objects.get(email="carol@example.org").verified


def test_a_clinician_can_sign_up_as_one(client):
    sign_up(client, "dr@example.org", role="clinician")
    assert User.objects.get(email="dr@example.org").is_clinician


def test_an_email_cannot_sign_up_twice(client, alice):
    sign_up(client, "Alice@Example.org")
    assert User.objects.filter(email__iexact="alice@example.org").count() == 1


def test_log_in_and_out_with_email(client, alice):
    response = client.post("/accounts/login/", {"login": "alice@example.org", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/api/v1/me/").json()["email"] == "alice@example.org"
    client.post("/accounts/logout/")
    assert client.get("/api/v1/me/").status_code == 401


def test_patients_land_on_the_log_page_and_clinicians_on_their_dashboard(client, alice):
    make_user("dr@example.org", role="clinician")
    patient = client.post("/accounts/login/", {"login": "alice@example.org", "password": "correct horse battery"})
    assert patient.status_code == 302 and patient.url == "/"
    client.post("/accounts/logout/")
    clinician = client.post("/accounts/login/", {"login": "dr@example.org", "password": "correct horse battery"})
    assert clinician.status_code == 302 and clinician.url == "/clinician/"


def test_password_reset_by_email(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form_url = client.get(path).url or path  # allauth redirects to a URL without the key in it
    client.post(form_url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"})
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")


def test_session_writes_need_a_csrf_token(alice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    body = {"started_at": "2026-11-03T03:10:00Z", "muscle": "calf", "side": "left"}
    response = strict.post("/api/v1/episodes/", body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_home_page_needs_a_login(client):
    assert client.get("/").status_code == 302
    make_user("dave@example.org")
    client.login(email="dave@example.org", password="correct horse battery")
    assert client.get("/").status_code == 200
