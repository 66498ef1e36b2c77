"""The edges of the app: error pages in its look, allauth's pages in its words, and messages shown
on the page they lead to (never piling up for a later page)."""

import re

import pytest
from django.test import RequestFactory

from cramptrack import errors

pytestmark = pytest.mark.django_db

SIGN_UP = {"email": "erin@example.org", "password1": "a long night of cramps", "role": "patient"}


def test_a_missing_page_is_the_apps_own_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert re.search(r'<link rel="stylesheet" href="/static/css/app\.css', html)
    assert 'href="/">Back to CrampTrack</a>' in html
    assert client.get("/api/v1/no-such-thing/").json() == {"detail": "Not found."}


def test_the_500_page_is_the_apps_own_and_needs_no_request_context_nor_database(django_assert_num_queries):
    request = RequestFactory().get("/diary/")  # no session, no user: the middleware never ran
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html and "/static/css/app.css" in html
    assert errors.server_error(RequestFactory().get("/api/v1/episodes/")).status_code == 500  # JSON there


def test_a_message_shows_on_the_page_it_leads_to_and_not_later(client):
    response = client.post("/accounts/signup/", SIGN_UP, follow=True)
    assert response.redirect_chain[-1][0] == "/welcome/"
    assert "Confirmation email sent to erin@example.org." in response.content.decode()
    assert response["Cache-Control"] == "no-store"  # the service worker does not keep it as the shell
    assert "Confirmation email sent" not in client.get("/welcome/").content.decode()
    assert "Confirmation email sent" not in client.get("/sharing/").content.decode()


def test_logging_in_leaves_no_message_for_a_later_page(client, alice):
    response = client.post("/accounts/login/", {"login": alice.email, "password": "correct horse battery"})
    assert response.status_code == 302
    assert "Successfully signed in" not in client.get("/").content.decode()
    assert "Successfully signed in" not in client.get("/sharing/").content.decode()


def test_allauths_pages_speak_in_sentence_case_with_the_apps_controls(client, alice):
    client.force_login(alice)
    html = client.get("/accounts/email/").content.decode()
    headings = re.findall(r"<h[12][^>]*>\s*(.*?)\s*</h[12]>", html, re.S)
    assert "Email addresses" in headings and "Add email address" in headings
    assert re.search(r'<label class="check" for="email_radio_0"><input type="radio"', html)
    assert re.search(r'class="btn btn-primary"[^>]*name="action_primary"[^>]*>Make primary<', html)
    assert re.search(r'class="btn btn-danger-quiet"[^>]*name="action_remove"', html)
    assert "<title>Email addresses · CrampTrack</title>" in html
    html = client.get("/accounts/password/change/").content.decode()
    assert "<h1>Change password</h1>" in html and ">Current password</label>" in html


def test_cancel_on_the_clinicians_code_step_is_not_the_primary_button(client):
    from django.urls import reverse

    from sharing.tests.conftest import make_clinician

    doctor = make_clinician("dr.jones@clinic.example")
    login = client.post(reverse("account_login"), {"login": doctor.email, "password": "correct horse battery"})
    assert login["Location"] == reverse("mfa_authenticate")
    html = client.get(reverse("mfa_authenticate")).content.decode()
    assert "<h1>Two-factor authentication</h1>" in html
    assert re.search(r'class="btn btn-primary"[^>]*type="submit">Sign in<', html)
    assert re.search(r'class="btn btn-quiet"[^>]*form="logout-from-stage"[^>]*type="submit">Cancel<', html)
    assert '<label for="id_code">' in html  # a visible label, not only a placeholder
