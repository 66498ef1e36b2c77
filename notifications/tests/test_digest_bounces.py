"""A mail server's refusals: a permanent refusal of the address stops the emails to it at once and the app
says so; anything that may pass (4xx, a policy refusal that may be this server's own setup) is retried."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from rest_framework.test import APIClient

from diary.models import Profile
from notifications import delivery
from notifications.models import DigestDelivery

from .weekly import MONDAY_0800_LONDON, patient, run_tick

pytestmark = pytest.mark.django_db

USER_UNKNOWN = "550 5.1.1 <alice@example.org>: Recipient address rejected: User unknown"


def me(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(type(user).objects.get(pk=user.pk))
    return api


def test_user_unknown_suppresses_the_address_at_once_and_the_app_says_so(smtp_server):
    alice = patient()
    smtp_server.recipient_replies["alice@example.org"] = USER_UNKNOWN
    assert run_tick(MONDAY_0800_LONDON) == ["bounced"]
    row = DigestDelivery.objects.get()
    assert row.status == "bounced" and row.attempts == 1 and "User unknown" in row.last_error
    assert run_tick(MONDAY_0800_LONDON + timedelta(hours=7)) == []  # no retries
    assert run_tick(MONDAY_0800_LONDON + timedelta(days=7)) == []  # and no next week
    assert DigestDelivery.objects.count() == 1 and smtp_server.messages == []
    profile = me(alice).get("/api/v1/me/").json()
    assert profile["email"] == "alice@example.org" and profile["email_bounced_at"] is not None


def test_turning_the_email_back_on_tries_the_address_again(smtp_server):
    alice = patient()
    smtp_server.recipient_replies["alice@example.org"] = USER_UNKNOWN
    assert run_tick(MONDAY_0800_LONDON) == ["bounced"]
    del smtp_server.recipient_replies["alice@example.org"]  # the mailbox is back
    assert me(alice).patch("/api/v1/me/", {"digest_enabled": True}, format="json").status_code == 200
    assert me(alice).get("/api/v1/me/").json()["email_bounced_at"] is None
    assert run_tick(MONDAY_0800_LONDON + timedelta(days=7)) == ["sent"]
    assert "(2 Nov – 8 Nov)" not in smtp_server.messages[0]["Subject"]  # this week's email, not the bounced one


def test_a_new_address_starts_afresh(smtp_server):
    alice = patient()
    smtp_server.recipient_replies["alice@example.org"] = USER_UNKNOWN
    assert run_tick(MONDAY_0800_LONDON) == ["bounced"]
    type(alice).objects.filter(pk=alice.pk).update(email="alice@new.example.org")
    EmailAddress.objects.create(user=alice, email="alice@new.example.org", verified=True)
    assert me(alice).get("/api/v1/me/").json()["email_bounced_at"] is None
    assert run_tick(MONDAY_0800_LONDON + timedelta(days=7)) == ["sent"]
    assert [m["To"] for m in smtp_server.messages] == ["alice@new.example.org"]


@pytest.mark.parametrize(
    "reply",
    [
        "450 4.2.1 Mailbox busy, try again later",  # temporary
        "554 5.7.1 Relay access denied",  # policy: may be this server's own misconfiguration
        "550 5.1.8 Sender address rejected",  # about our sender, not the address
    ],
)
def test_other_refusals_keep_retrying_with_backoff(smtp_server, reply):
    alice = patient()
    smtp_server.recipient_replies["alice@example.org"] = reply
    assert run_tick(MONDAY_0800_LONDON) == ["failed"]
    assert run_tick(MONDAY_0800_LONDON + timedelta(minutes=1)) == []  # backing off
    del smtp_server.recipient_replies["alice@example.org"]
    assert run_tick(MONDAY_0800_LONDON + timedelta(minutes=6)) == ["sent"]
    assert not Profile.objects.get(user=alice).email_bounced_address


def test_a_bounce_mid_batch_leaves_the_session_for_the_rest(smtp_server):
    emails = ["a@example.org", "b@example.org", "c@example.org"]
    for email in emails:
        patient(email)
    smtp_server.recipient_replies["b@example.org"] = "550 5.1.1 User unknown"
    ids = delivery.plan(now=MONDAY_0800_LONDON)
    outcomes = delivery.send_batch(ids, now=MONDAY_0800_LONDON)
    assert [outcomes[i] for i in ids] == ["sent", "bounced", "sent"]
    assert [m["To"] for m in smtp_server.messages] == ["a@example.org", "c@example.org"]
    assert smtp_server.sessions == 1
