"""Clinicians need TOTP set up and used in the session; patients may turn it on; tokens respect it."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sharing.mfa import has_totp
from sharing.models import AccessLog

from .conftest import make_clinician, make_grant, signed_in, totp_code

PASSWORD = "correct horse battery"


def shown_totp_secret(page) -> str:
    """The key allauth's set-up page shows, to type into an authenticator app by hand."""
    assert page.status_code == 200
    field = re.search(r'<input[^>]*id="authenticator_secret"[^>]*>', page.content.decode())
    assert field, "the set-up page shows no key"
    value = re.search(r'value="([A-Z2-7]+=*)"', field.group())
    assert value, field.group()
    return value.group(1)


def test_a_clinician_without_totp_is_sent_to_set_it_up_and_sees_nothing(diary):
    newcomer = make_clinician("new@clinic.example", with_totp=False)
    grant = make_grant(diary, newcomer)
    client = signed_in(newcomer, mfa=False)
    for name in ("clinician-dashboard", "clinician-patient"):
        args = [grant.uuid] if name != "clinician-dashboard" else []
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    api = client.get(reverse("clinician-api-episodes", args=[grant.uuid]))
    assert api.status_code == 403
    assert AccessLog.objects.count() == 0


def test_a_session_without_the_second_factor_must_reauthenticate(grant):
    client = signed_in(grant.clinician, mfa=False)
    page = reverse("clinician-patient", args=[grant.uuid])
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate")) and "next=" in response["Location"]
    assert client.get(reverse("clinician-api-patients")).status_code == 403
    assert AccessLog.objects.count() == 0


def test_the_real_login_asks_for_the_code_and_then_opens_the_diary(grant):
    client = Client()
    login = client.post(reverse("account_login"), {"login": grant.clinician.email, "password": PASSWORD})
    assert login.status_code == 302 and login["Location"] == reverse("mfa_authenticate")
    # Not logged in yet: the password alone opens nothing.
    assert client.get(reverse("clinician-patient", args=[grant.uuid])).status_code == 302
    step = client.post(reverse("mfa_authenticate"), {"code": totp_code(grant.clinician.totp_secret)})
    assert step.status_code == 302
    assert client.get(reverse("clinician-patient", args=[grant.uuid])).status_code == 200
    assert AccessLog.objects.filter(what="patient_page").count() == 1


def test_a_clinicians_session_lasts_hours_and_a_patients_a_season(grant, alice, settings):
    clinician = Client()
    clinician.post(reverse("account_login"), {"login": grant.clinician.email, "password": PASSWORD})
    clinician.post(reverse("mfa_authenticate"), {"code": totp_code(grant.clinician.totp_secret)})
    assert clinician.get(reverse("clinician-patient", args=[grant.uuid])).status_code == 200
    assert clinician.session.get_expiry_age() == settings.CLINICIAN_SESSION_HOURS * 3600 <= 12 * 3600
    patient = Client()
    patient.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert patient.session.get_expiry_age() == settings.SESSION_COOKIE_AGE >= 30 * 24 * 3600


def test_an_old_second_factor_is_asked_for_again(grant, settings):
    client = signed_in(grant.clinician)
    page = reverse("clinician-patient", args=[grant.uuid])
    assert client.get(page).status_code == 200
    settings.CLINICIAN_REAUTH_HOURS = 0  # as if the hours since the code was typed had passed
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get(reverse("clinician-api-patients")).status_code == 403


# Real commits: allauth announces the new authenticator on commit, inside the request.
@pytest.mark.django_db(transaction=True)
def test_setting_up_totp_counts_as_the_second_factor_for_this_session(diary):
    newcomer = make_clinician("new@clinic.example", with_totp=False)
    grant = make_grant(diary, newcomer)
    client = Client()
    assert client.post(reverse("account_login"), {"login": newcomer.email, "password": PASSWORD}).status_code == 302
    assert client.get(reverse("clinician-dashboard"))["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before any change to the second factor.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302

    secret = shown_totp_secret(client.get(reverse("mfa_activate_totp")))
    assert client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)}).status_code == 302
    assert client.get(reverse("clinician-patient", args=[grant.uuid])).status_code == 200


def test_a_patient_may_turn_on_totp(alice):
    client = Client()
    client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert client.get(reverse("mfa_index")).status_code == 200
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = shown_totp_secret(client.get(reverse("mfa_activate_totp")))
    assert client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)}).status_code == 302
    assert has_totp(alice)


@pytest.mark.django_db
def test_an_api_token_needs_the_code_once_totp_is_on(dr):
    client = APIClient()
    body = {"email": dr.email, "password": PASSWORD}
    refused = client.post(reverse("token"), body, format="json")
    assert refused.status_code == 400 and "code" in refused.data
    wrong = client.post(reverse("token"), {**body, "code": "000000"}, format="json")
    assert wrong.status_code == 400
    issued = client.post(reverse("token"), {**body, "code": totp_code(dr.totp_secret)}, format="json")
    assert issued.status_code == 201


def test_clinician_endpoints_refuse_api_tokens(grant):
    client = APIClient()
    token = client.post(
        reverse("token"),
        {"email": grant.clinician.email, "password": PASSWORD, "code": totp_code(grant.clinician.totp_secret)},
        format="json",
    ).data["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(reverse("clinician-api-episodes", args=[grant.uuid])).status_code == 403
    assert AccessLog.objects.count() == 0


def test_patients_without_totp_still_get_tokens_with_a_password(alice):
    response = APIClient().post(reverse("token"), {"email": alice.email, "password": PASSWORD}, format="json")
    assert response.status_code == 201
