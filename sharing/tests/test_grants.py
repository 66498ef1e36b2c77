"""Offering, accepting, revoking and expiring grants; the emails; the rate limits."""

import re
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import in_one_window
from sharing import codes, grants, limits
from sharing.access import grant_or_404
from sharing.models import AccessLog, Grant

from .conftest import make_clinician, make_grant, signed_in, verify_email

CODE_SHAPE = re.compile(rf"^[{codes.ALPHABET}]{{4}}-[{codes.ALPHABET}]{{4}}$")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def clinician_api(user) -> APIClient:
    """The clinician API takes the browser session (with its TOTP step), never a token."""
    client = APIClient()
    client.cookies = signed_in(user).cookies
    return client


# --- Invitations -------------------------------------------------------------------------------


def test_invitation_arrives_by_smtp_and_its_link_lets_the_clinician_in(smtp_server, diary, dr):
    verify_email(diary)
    response = api(diary).post(
        reverse("share-invitations"), {"email": "Dr.Jones@Clinic.example", "notes": False}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.data["status"] == "pending" and response.data["clinician"] == dr.email

    [message] = smtp_server.messages
    assert message["To"] == dr.email
    assert "alice@example.org" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = re.search(r"http://\S+/sharing/accept/\S+/", text).group(0)
    assert link in html
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not Grant.objects.filter(token_hash=token).exists()  # only its hash is stored

    clinician = signed_in(dr)
    path = link.removeprefix("http://localhost:8000")
    page = clinician.get(path)
    assert page.status_code == 200 and b"alice@example.org" in page.content
    accepted = clinician.post(path)
    grant = Grant.objects.get(uuid=response.data["id"])
    assert accepted.status_code == 302 and accepted["Location"] == reverse("clinician-patient", args=[grant.uuid])
    assert grant.clinician == dr and grant.is_active()
    assert clinician.get(accepted["Location"]).status_code == 200

    # The link works once.
    assert clinician.post(path).status_code == 400


def test_an_invitation_is_accepted_only_by_the_invited_address(diary, dr, dr_other):
    grant, token = grants.create_invitation(diary, dr.email, {}, timezone.now() + timedelta(days=30))
    response = signed_in(dr_other).post(reverse("sharing-accept", args=[token]))
    assert response.status_code == 400 and b"another address" in response.content
    grant.refresh_from_db()
    assert grant.clinician is None


def test_a_patient_account_cannot_accept(diary, bob, dr):
    _, token = grants.create_invitation(diary, bob.email, {}, timezone.now() + timedelta(days=30))
    assert signed_in(bob).post(reverse("sharing-accept", args=[token])).status_code == 400
    assert not Grant.objects.filter(clinician=bob).exists()


def test_an_anonymous_visitor_is_sent_to_log_in_and_back(diary, dr):
    _, token = grants.create_invitation(diary, dr.email, {}, timezone.now() + timedelta(days=30))
    path = reverse("sharing-accept", args=[token])
    response = Client().get(path)
    assert response.status_code == 302 and f"next={path}" in response["Location"].replace("%2F", "/")


def test_an_invitation_expires_after_seven_days(diary, dr):
    now = timezone.now()
    grant, token = grants.create_invitation(diary, dr.email, {}, now + timedelta(days=90), now=now)
    with pytest.raises(grants.OfferError):
        grants.accept_invitation(token, dr, now=now + timedelta(days=7, seconds=1))
    assert grants.accept_invitation(token, dr, now=now + timedelta(days=6)).pk == grant.pk


def test_inviting_needs_a_confirmed_address(diary):
    response = api(diary).post(reverse("share-invitations"), {"email": "dr@x.example"}, format="json")
    assert response.status_code == 403
    assert not Grant.objects.exists()


def test_invitations_are_rate_limited(smtp_server, diary):
    verify_email(diary)
    client = api(diary)
    in_one_window(limits.INVITATIONS_PER_PATIENT)
    responses = [
        client.post(reverse("share-invitations"), {"email": f"dr{i}@x.example"}, format="json") for i in range(11)
    ]
    assert [r.status_code for r in responses] == [201] * 10 + [429]
    assert 0 < int(responses[-1]["Retry-After"]) <= 24 * 3600
    assert len(smtp_server.messages) == 10


def test_a_clinician_cannot_share_a_diary(dr):
    response = api(dr).post(reverse("share-codes"), {}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "alice@example.org"}, "email"),
        ({"email": "dr@x.example", "last_day": "2099-01-01"}, "last_day"),
        ({"email": "dr@x.example", "episodes_checkins": False, "insights": False, "medications": False}, None),
    ],
)
def test_bad_invitations_are_400s_that_send_nothing(smtp_server, diary, body, field):
    verify_email(diary)
    response = api(diary).post(reverse("share-invitations"), body, format="json")
    assert response.status_code == 400
    assert (field or "non_field_errors") in response.data
    assert not smtp_server.messages and not Grant.objects.exists()


def test_the_default_expiry_is_90_days_and_ends_at_local_midnight(diary):
    response = api(diary).post(reverse("share-codes"), {}, format="json")
    grant = Grant.objects.get(uuid=response.data["id"])
    local = grant.expires_at.astimezone(diary.profile.zone)
    assert (local.hour, local.minute) == (0, 0)
    today = timezone.now().astimezone(diary.profile.zone).date()
    assert grant.last_day == today + timedelta(days=90)
    assert not grant.notes and grant.episodes_checkins and grant.insights and grant.medications


def test_expiry_is_the_patients_last_day_across_a_dst_change(bob):
    # New York springs forward on 8 March 2026: the last day still ends at local midnight.
    zone = bob.profile.zone
    expires_at = grants.expiry_after(timezone.datetime(2026, 3, 8).date(), zone)
    assert expires_at.astimezone(zone).isoformat() == "2026-03-09T00:00:00-04:00"
    grant = Grant(patient=bob, expires_at=expires_at)
    assert grant.last_day.isoformat() == "2026-03-08"


# --- Share codes -------------------------------------------------------------------------------


def test_a_share_code_is_shown_once_stored_hashed_and_works_once(diary, dr, dr_other):
    response = api(diary).post(reverse("share-codes"), {"notes": True}, format="json")
    assert response.status_code == 201
    code = response.data["code"]
    assert CODE_SHAPE.match(code)
    grant = Grant.objects.get(uuid=response.data["id"])
    assert grant.code_hash == codes.code_hash(code.replace("-", "")) and code.replace("-", "") not in grant.code_hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sharing_grant")
        assert code.replace("-", "") not in repr(cursor.fetchall())
    assert "code" not in api(diary).get(reverse("share-detail", args=[grant.uuid])).data

    typed = code.lower().replace("-", " ")  # read out on the phone, typed loosely
    redeemed = clinician_api(dr).post(reverse("clinician-api-redeem"), {"code": typed}, format="json")
    assert redeemed.status_code == 201 and redeemed.data["id"] == str(grant.uuid)
    again = clinician_api(dr_other).post(reverse("clinician-api-redeem"), {"code": code}, format="json")
    assert again.status_code == 400
    grant.refresh_from_db()
    assert grant.clinician == dr and grant.notes
    assert AccessLog.objects.count() == 0  # accepting shows no diary data


def test_a_share_code_lasts_24_hours(diary, dr):
    now = timezone.now()
    _, code = grants.create_code(diary, {}, now + timedelta(days=90), now=now)
    with pytest.raises(grants.OfferError):
        grants.redeem_code(code, dr, now=now + timedelta(hours=24, seconds=1))
    assert grants.redeem_code(code, dr, now=now + timedelta(hours=23)).clinician == dr


def test_share_code_guesses_are_limited_per_account(diary, dr):
    _, code = grants.create_code(diary, {}, timezone.now() + timedelta(days=90))
    client = clinician_api(dr)
    in_one_window(limits.CODE_ATTEMPTS_PER_USER, limits.CODE_ATTEMPTS_PER_IP)
    wrong = [client.post(reverse("clinician-api-redeem"), {"code": "2345-6789"}, format="json") for _ in range(10)]
    assert [r.status_code for r in wrong] == [400] * 10
    # The eleventh try is refused before the code is even looked at, right or wrong.
    refused = client.post(reverse("clinician-api-redeem"), {"code": code}, format="json")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert not Grant.objects.filter(clinician=dr).exists()


def test_share_code_guesses_are_limited_per_address_across_accounts(diary):
    _, code = grants.create_code(diary, {}, timezone.now() + timedelta(days=90))
    clinicians = [make_clinician(f"guesser{i}@x.example") for i in range(3)]
    in_one_window(limits.CODE_ATTEMPTS_PER_USER, limits.CODE_ATTEMPTS_PER_IP)
    statuses = []
    for i in range(21):
        client = clinician_api(clinicians[i % 3])
        statuses.append(client.post(reverse("clinician-api-redeem"), {"code": "ZZZZ-ZZZZ"}, format="json").status_code)
    assert statuses == [400] * 20 + [429]
    page = signed_in(clinicians[0]).post(reverse("clinician-redeem"), {"code": code})
    assert page.status_code == 429
    assert 0 < int(page["Retry-After"]) <= 3600
    assert not Grant.objects.filter(clinician__isnull=False).exists()


def test_the_redeem_page_accepts_a_code(diary, dr):
    _, code = grants.create_code(diary, {}, timezone.now() + timedelta(days=90))
    response = signed_in(dr).post(reverse("clinician-redeem"), {"code": codes.display_code(code)})
    grant = Grant.objects.get(clinician=dr)
    assert response.status_code == 302 and response["Location"] == reverse("clinician-patient", args=[grant.uuid])


def test_a_new_grant_replaces_the_clinicians_earlier_one_for_that_patient(diary, dr):
    old = make_grant(diary, dr)
    _, code = grants.create_code(diary, {"notes": True}, timezone.now() + timedelta(days=30))
    new = grants.redeem_code(code, dr)
    old.refresh_from_db()
    assert old.revoked_at is not None and new.is_active()
    assert signed_in(dr).get(reverse("clinician-patient", args=[old.uuid])).status_code == 404


def test_codes_use_only_unambiguous_characters():
    drawn = {codes.new_code() for _ in range(200)}
    assert all(len(c) == 8 and set(c) <= set(codes.ALPHABET) for c in drawn)
    assert not set("01ILOU") & set(codes.ALPHABET)
    assert codes.normalize_code(" abcd-efgh ") == "ABCDEFGH"
    assert codes.normalize_code("ABCD-EFG0") is None  # 0 is never in a code: no lookup at all


# --- Revocation and expiry --------------------------------------------------------------------


def test_revoking_takes_effect_on_the_clinicians_next_request(grant):
    clinician = signed_in(grant.clinician)
    page = reverse("clinician-patient", args=[grant.uuid])
    episodes = reverse("clinician-api-episodes", args=[grant.uuid])
    assert clinician.get(page).status_code == 200
    assert clinician.get(episodes).status_code == 200

    revoked = api(grant.patient).post(reverse("share-revoke", args=[grant.uuid]))
    assert revoked.status_code == 200 and revoked.data["status"] == "revoked"

    logged = AccessLog.objects.count()
    assert clinician.get(page).status_code == 404
    assert clinician.get(episodes).status_code == 404
    assert str(grant.uuid) not in clinician.get(reverse("clinician-dashboard")).content.decode()
    assert AccessLog.objects.count() == logged


def test_revoking_from_the_page(grant):
    response = signed_in(grant.patient).post(reverse("sharing-revoke", args=[grant.uuid]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status() == "revoked"


def test_another_patient_can_neither_see_nor_revoke_a_share(grant, bob):
    assert api(bob).post(reverse("share-revoke", args=[grant.uuid])).status_code == 404
    assert api(bob).get(reverse("share-detail", args=[grant.uuid])).status_code == 404
    assert api(bob).get(reverse("shares")).data["results"] == []
    assert signed_in(bob).post(reverse("sharing-revoke", args=[grant.uuid])).status_code == 404
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_a_grant_expires_at_its_time(grant):
    assert grant_or_404(grant.clinician, grant.uuid, now=grant.expires_at - timedelta(seconds=1)) == grant
    with pytest.raises(Exception) as raised:
        grant_or_404(grant.clinician, grant.uuid, now=grant.expires_at)
    assert raised.type.__name__ == "Http404"
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert signed_in(grant.clinician).get(reverse("clinician-patient", args=[grant.uuid])).status_code == 404
    assert AccessLog.objects.count() == 0


def test_the_patient_sees_every_grant_with_its_status(diary, dr, dr_other, bob):
    now = timezone.now()
    make_grant(diary, dr)
    make_grant(diary, dr_other, revoked_at=now)
    make_grant(
        diary,
        make_clinician("old@x.example"),
        created_at=now - timedelta(days=100),
        offer_expires_at=now - timedelta(days=99),
        expires_at=now - timedelta(days=1),
    )
    grants.create_code(diary, {}, now + timedelta(days=30))
    make_grant(bob, dr)
    rows = api(diary).get(reverse("shares")).data["results"]
    assert sorted(r["status"] for r in rows) == ["active", "expired", "pending", "revoked"]
    page = signed_in(diary).get(reverse("sharing")).content.decode()
    for status in ("Active", "Expired", "Pending", "Revoked"):
        assert status in page


# --- The access log and the first-view email -------------------------------------------------


def test_the_patient_gets_one_email_on_a_clinicians_first_view(smtp_server, grant, django_capture_on_commit_callbacks):
    clinician = signed_in(grant.clinician)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert clinician.get(reverse("clinician-patient", args=[grant.uuid])).status_code == 200
        assert clinician.get(reverse("clinician-api-episodes", args=[grant.uuid])).status_code == 200

    [message] = smtp_server.messages
    assert message["To"] == grant.patient.email
    assert grant.clinician.email in message["Subject"]
    assert "/sharing/" in message.get_body(("plain",)).get_content()
    rows = api(grant.patient).get(reverse("share-access-log")).data["results"]
    assert [r["what"] for r in rows] == ["api:episodes", "patient_page", "patient_page", "patient_page"]
    assert {r["clinician_email"] for r in rows} == {grant.clinician.email}


def test_a_failed_first_view_email_is_retried_on_the_next_view_and_never_fails_the_read(
    smtp_server, grant, django_capture_on_commit_callbacks
):
    clinician = signed_in(grant.clinician)
    page = reverse("clinician-patient", args=[grant.uuid])
    smtp_server.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        assert clinician.get(page).status_code == 200
    grant.refresh_from_db()
    assert grant.first_viewed_at is not None and grant.first_view_notified_at is None
    smtp_server.refuse = False
    with django_capture_on_commit_callbacks(execute=True):
        assert clinician.get(page).status_code == 200
        assert clinician.get(page).status_code == 200
    assert len(smtp_server.messages) == 1


def test_the_access_log_can_be_filtered_by_share_and_is_private(grant, bob):
    signed_in(grant.clinician).get(reverse("clinician-patient", args=[grant.uuid]))
    mine = api(grant.patient).get(reverse("share-access-log"), {"share": str(grant.uuid)}).data["results"]
    assert len(mine) == 1 and mine[0]["share_id"] == str(grant.uuid)
    assert api(bob).get(reverse("share-access-log")).data["results"] == []
    assert api(grant.patient).get(reverse("share-access-log"), {"share": "nope"}).status_code == 400


def test_the_access_log_is_append_only(grant):
    signed_in(grant.clinician).get(reverse("clinician-patient", args=[grant.uuid]))
    row = AccessLog.objects.get()
    row.what = "dashboard"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        AccessLog.objects.update(what="dashboard")
    with pytest.raises(TypeError):
        AccessLog.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE sharing_accesslog SET what = 'dashboard'")
    assert AccessLog.objects.get().what == "patient_page"


def test_the_log_outlives_the_clinicians_account_and_goes_with_the_patients(grant):
    signed_in(grant.clinician).get(reverse("clinician-patient", args=[grant.uuid]))
    grant.clinician.delete()
    row = AccessLog.objects.get()
    assert row.clinician_email == "dr.jones@clinic.example"
    grant.refresh_from_db()
    assert grant.status() == "revoked"
    grant.patient.delete()
    assert not AccessLog.objects.exists() and not Grant.objects.exists()


def test_sharing_pages_create_and_show_a_code(diary):
    client = signed_in(diary)
    response = client.post(
        reverse("sharing-code"),
        {"code-episodes_checkins": "on", "code-last_day": (timezone.now() + timedelta(days=10)).date().isoformat()},
    )
    assert response.status_code == 201
    code = re.search(rb'class="share-code">([^<]+)<', response.content).group(1).decode()
    assert CODE_SHAPE.match(code)
    grant = Grant.objects.get()
    assert grant.episodes_checkins and not grant.insights and not grant.notes


def test_the_sharing_page_sends_an_invitation(smtp_server, diary):
    verify_email(diary)
    response = signed_in(diary).post(
        reverse("sharing-invite"),
        {
            "invite-email": "dr@x.example",
            "invite-episodes_checkins": "on",
            "invite-notes": "on",
            "invite-last_day": (timezone.now() + timedelta(days=10)).date().isoformat(),
        },
    )
    assert response.status_code == 302
    assert [m["To"] for m in smtp_server.messages] == ["dr@x.example"]
    assert Grant.objects.get().notes


def test_clinicians_are_sent_from_the_patient_pages_to_their_dashboard(dr):
    response = signed_in(dr).get(reverse("sharing"))
    assert response.status_code == 302 and response["Location"] == reverse("clinician-dashboard")
