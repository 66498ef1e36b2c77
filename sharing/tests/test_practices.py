"""Sharing with a practice: accepting for it, what its members read, what the patient sees and
revokes, who manages the members, and the FHIR Patient id a practice's record system keeps.
(Every endpoint × every kind of practice caller is in test_access_matrix.)"""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conftest import make_user
from sharing import codes, fhir, grants, practices
from sharing.models import AccessLog, Grant, Practice, PracticeMembership

from .conftest import make_clinician, make_grant, signed_in, verify_email


def clinician_api(user) -> APIClient:
    client = APIClient()
    client.cookies = signed_in(user).cookies
    return client


def patient_api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def surgery(db):
    """Riverside Surgery: Dr Admin (its admin) and Dr Gp (a member)."""
    admin = make_clinician("admin@riverside.example")
    practice = practices.create_practice(admin, "Riverside Surgery")
    gp = make_clinician("gp@riverside.example")
    practices.add_member(admin, practice.uuid, gp.email)
    practice.admin, practice.gp = admin, gp
    return practice


def test_an_account_that_has_not_confirmed_its_address_cannot_be_added(surgery):
    # Someone signed up under a colleague's address before the colleague did: the admin adding "that
    # colleague" must not give them the practice's patients.
    impostor = make_clinician("dr.real@riverside.example", verified=False)
    with pytest.raises(practices.PracticeError, match="has not confirmed their address"):
        practices.add_member(surgery.admin, surgery.uuid, "dr.real@riverside.example")
    assert not surgery.memberships.filter(user=impostor).exists()
    verify_email(impostor)  # the address's owner confirms it
    practices.add_member(surgery.admin, surgery.uuid, "Dr.Real@riverside.example")
    assert surgery.memberships.filter(user=impostor).exists()


@pytest.fixture
def practice_grant(small_diary, surgery):
    return make_grant(small_diary, surgery.admin, practice=surgery)


def page(grant) -> str:
    return reverse("clinician-patient", args=[grant.uuid])


def until(patient):
    """The default expiry of a share the patient makes today."""
    zone = patient.profile.zone
    return grants.expiry_after(grants.default_last_day(zone), zone)


def membership(practice, user) -> PracticeMembership:
    return practice.memberships.get(user=user)


# --- Accepting for a practice -------------------------------------------------------------------


def test_a_code_accepted_for_the_practice_is_read_by_every_member(small_diary, surgery):
    _, code = grants.create_code(small_diary, {"insights": True}, until(small_diary))
    form = signed_in(surgery.gp).get(reverse("clinician-redeem")).content.decode()
    assert "Riverside Surgery (all its members)" in form

    response = signed_in(surgery.gp).post(
        reverse("clinician-redeem"), {"code": codes.display_code(code), "practice": str(surgery.uuid)}
    )

    grant = Grant.objects.get(patient=small_diary)
    assert response.status_code == 302 and response["Location"] == page(grant)
    assert grant.practice == surgery and grant.clinician is None and grant.clinician_email == surgery.gp.email
    for member in (surgery.admin, surgery.gp):
        dashboard = signed_in(member).get(reverse("clinician-dashboard")).content.decode()
        assert page(grant) in dashboard and "via Riverside Surgery" in dashboard
        assert signed_in(member).get(page(grant)).status_code == 200


def test_a_clinician_with_no_practice_is_not_asked_and_accepts_for_themself(small_diary, dr):
    _, code = grants.create_code(small_diary, {"insights": True}, until(small_diary))
    client = signed_in(dr)
    assert 'name="practice"' not in client.get(reverse("clinician-redeem")).content.decode()
    assert client.post(reverse("clinician-redeem"), {"code": code}).status_code == 302
    grant = Grant.objects.get(patient=small_diary)
    assert grant.clinician == dr and grant.practice is None


def test_nobody_accepts_for_a_practice_they_do_not_belong_to(small_diary, surgery):
    outsider = make_clinician("outsider@elsewhere.example")
    practices.create_practice(outsider, "Elsewhere Clinic")
    _, code = grants.create_code(small_diary, {"insights": True}, until(small_diary))

    api = clinician_api(outsider).post(
        reverse("clinician-api-redeem"), {"code": code, "practice": str(surgery.uuid)}, format="json"
    )
    assert api.status_code == 400 and "practice" in api.data
    form = signed_in(outsider).post(reverse("clinician-redeem"), {"code": code, "practice": str(surgery.uuid)})
    assert form.status_code == 400
    with pytest.raises(grants.OfferError):
        grants.redeem_code(code, outsider, practice=surgery)

    # Nothing was half-done: the code still works, once, for a member.
    assert Grant.objects.get(patient=small_diary).accepted_at is None
    redeemed = clinician_api(surgery.gp).post(
        reverse("clinician-api-redeem"), {"code": code, "practice": str(surgery.uuid)}, format="json"
    )
    assert redeemed.status_code == 201 and redeemed.data["practice"] == "Riverside Surgery"


def test_an_invitation_can_be_accepted_for_the_practice(diary, surgery):
    _, token = grants.create_invitation(diary, surgery.gp.email, {"insights": True}, until(diary))
    url = reverse("sharing-accept", args=[token])
    client = signed_in(surgery.gp)
    assert "Riverside Surgery (all its members)" in client.get(url).content.decode()
    response = client.post(url, {"practice": str(surgery.uuid)})
    grant = Grant.objects.get(patient=diary)
    assert response.status_code == 302 and grant.practice == surgery
    assert signed_in(surgery.admin).get(page(grant)).status_code == 200


def test_a_new_share_with_the_practice_replaces_the_earlier_one(practice_grant, surgery):
    patient = practice_grant.patient
    _, code = grants.create_code(patient, {"insights": True}, until(patient))
    new = grants.redeem_code(code, surgery.gp, practice=surgery)
    practice_grant.refresh_from_db()
    assert practice_grant.revoked_at is not None and new.is_active()
    assert signed_in(surgery.admin).get(page(practice_grant)).status_code == 404


def test_a_grant_is_to_a_clinician_or_to_a_practice_never_both(practice_grant, surgery):
    both = Grant.objects.filter(pk=practice_grant.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        both.update(clinician=surgery.admin)
    pending = make_grant(practice_grant.patient, surgery.admin, accepted=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=pending.pk).update(practice=surgery)  # not before it is accepted


# --- What the patient sees ----------------------------------------------------------------------


def test_the_log_names_each_member_who_looked_and_the_patient_sees_members_and_views(
    practice_grant, surgery, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_in(surgery.gp).get(page(practice_grant)).status_code == 200
        findings = clinician_api(surgery.admin).get(reverse("clinician-api-findings", args=[practice_grant.uuid]))
        assert findings.status_code == 200

    rows = AccessLog.objects.filter(grant=practice_grant).order_by("id")
    assert [(r.clinician, r.clinician_email, r.what) for r in rows] == [
        (surgery.gp, surgery.gp.email, "patient_page"),
        (surgery.admin, surgery.admin.email, "api:findings"),
    ]
    # The first-view email names the member who looked, not the one who accepted.
    [message] = smtp_server.messages
    assert surgery.gp.email in message["Subject"] and "Riverside Surgery" in message["Subject"]

    patient = practice_grant.patient
    shares_page = signed_in(patient).get(reverse("sharing")).content.decode()
    assert "Riverside Surgery" in shares_page
    assert surgery.gp.email in shares_page and surgery.admin.email in shares_page  # its members now
    assert f"{surgery.gp.email}</strong> <span>for Riverside Surgery</span>" in shares_page

    log = patient_api(patient).get(reverse("share-access-log")).data["results"]
    assert [(r["clinician_email"], r["practice"]) for r in log] == [
        (surgery.admin.email, "Riverside Surgery"),
        (surgery.gp.email, "Riverside Surgery"),
    ]
    [share] = patient_api(patient).get(reverse("shares")).data["results"]
    assert share["practice"]["name"] == "Riverside Surgery"
    assert [m["email"] for m in share["practice"]["members"]] == [surgery.admin.email, surgery.gp.email]


def test_the_patient_sees_a_new_member_and_stops_seeing_a_removed_one(practice_grant, surgery):
    newcomer = make_clinician("new@riverside.example")
    practices.add_member(surgery.admin, surgery.uuid, newcomer.email)
    practices.remove_member(surgery.admin, surgery.uuid, membership(surgery, surgery.gp).pk)
    [share] = patient_api(practice_grant.patient).get(reverse("shares")).data["results"]
    assert [m["email"] for m in share["practice"]["members"]] == [surgery.admin.email, newcomer.email]


def test_a_members_own_share_stays_their_own(small_diary, surgery):
    own = make_grant(small_diary, surgery.admin)
    assert signed_in(surgery.admin).get(page(own)).status_code == 200
    assert signed_in(surgery.gp).get(page(own)).status_code == 404
    assert str(own.uuid) not in signed_in(surgery.gp).get(reverse("clinician-dashboard")).content.decode()


def test_revoking_a_practice_share_ends_every_members_access(practice_grant, surgery):
    patient = signed_in(practice_grant.patient)
    response = patient.post(reverse("sharing-revoke", args=[practice_grant.uuid]), follow=True)
    assert "Every member of Riverside Surgery loses access" in response.content.decode()
    for member in (surgery.admin, surgery.gp):
        assert signed_in(member).get(page(practice_grant)).status_code == 404
        assert str(practice_grant.uuid) not in signed_in(member).get(reverse("clinician-dashboard")).content.decode()


def test_a_removed_member_loses_access_on_their_next_request(practice_grant, surgery):
    gp = signed_in(surgery.gp)
    assert gp.get(page(practice_grant)).status_code == 200

    removed = signed_in(surgery.admin).post(
        reverse("clinician-practice-remove-member", args=[surgery.uuid, membership(surgery, surgery.gp).pk])
    )

    assert removed.status_code == 302
    assert gp.get(page(practice_grant)).status_code == 404
    assert gp.get(reverse("clinician-api-episodes", args=[practice_grant.uuid])).status_code == 404
    assert str(practice_grant.uuid) not in gp.get(reverse("clinician-dashboard")).content.decode()
    assert gp.get(reverse("clinician-practice", args=[surgery.uuid])).status_code == 404
    # What they read before stays in the patient's log, under their name.
    assert AccessLog.objects.filter(grant=practice_grant, clinician=surgery.gp).count() == 1


# --- Managing members ---------------------------------------------------------------------------


def test_any_clinician_opens_a_practice_and_becomes_its_admin(dr):
    client = signed_in(dr)
    response = client.post(reverse("clinician-practices"), {"name": "  Hilltop Physio "})
    practice = Practice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("clinician-practice", args=[practice.uuid])
    assert practice.name == "Hilltop Physio" and membership(practice, dr).is_admin
    assert "Hilltop Physio" in client.get(reverse("clinician-practices")).content.decode()


@pytest.mark.parametrize("name", ["", "Hill\u202etop", "x" * 121])
def test_a_bad_practice_name_is_a_400_that_creates_nothing(dr, name):
    assert signed_in(dr).post(reverse("clinician-practices"), {"name": name}).status_code == 400
    assert not Practice.objects.exists()


def test_an_admin_adds_a_member_by_the_address_of_their_clinician_account(surgery):
    newcomer = make_clinician("New@Riverside.example")
    admin = signed_in(surgery.admin)
    url = reverse("clinician-practice-add-member", args=[surgery.uuid])

    assert admin.post(url, {"email": "new@riverside.example"}).status_code == 302
    assert membership(surgery, newcomer).role == "member"

    again = admin.post(url, {"email": newcomer.email})
    assert again.status_code == 400 and "already a member" in again.content.decode()


def test_only_clinician_accounts_can_be_added_and_a_patients_address_says_nothing(surgery, alice):
    admin = signed_in(surgery.admin)
    url = reverse("clinician-practice-add-member", args=[surgery.uuid])
    patient = admin.post(url, {"email": alice.email})
    unknown = admin.post(url, {"email": "nobody@example.org"})
    assert patient.status_code == unknown.status_code == 400
    assert f"There is no clinician account for {alice.email}. Ask them" in patient.content.decode()
    assert "There is no clinician account for nobody@example.org. Ask them" in unknown.content.decode()
    assert admin.post(url, {"email": "not an address"}).status_code == 400
    assert surgery.memberships.count() == 2


def test_a_member_sees_the_members_but_cannot_manage_them(surgery):
    gp = signed_in(surgery.gp)
    listing = gp.get(reverse("clinician-practice", args=[surgery.uuid]))
    assert listing.status_code == 200 and surgery.admin.email in listing.content.decode()
    assert "Add a member" not in listing.content.decode()

    admin_row = membership(surgery, surgery.admin).pk
    own_row = membership(surgery, surgery.gp).pk
    newcomer = make_clinician("new@riverside.example")
    attempts = [
        (reverse("clinician-practice-add-member", args=[surgery.uuid]), {"email": newcomer.email}),
        (reverse("clinician-practice-add-member", args=[surgery.uuid]), {"email": "not an address"}),
        (reverse("clinician-practice-remove-member", args=[surgery.uuid, admin_row]), {}),
        (reverse("clinician-practice-make-admin", args=[surgery.uuid, own_row]), {}),
    ]
    for url, data in attempts:
        assert gp.post(url, data).status_code == 403, url
    assert sorted(surgery.memberships.values_list("user__email", "role")) == [
        (surgery.admin.email, "admin"),
        (surgery.gp.email, "member"),
    ]


def test_a_member_can_leave_the_practice_on_their_own(surgery, practice_grant):
    gp = signed_in(surgery.gp)
    listing = gp.get(reverse("clinician-practice", args=[surgery.uuid])).content.decode()
    assert "Leave the practice" in listing
    leave = reverse("clinician-practice-remove-member", args=[surgery.uuid, membership(surgery, surgery.gp).pk])
    left = gp.post(leave)
    assert left.status_code == 302 and left["Location"] == reverse("clinician-practices")
    assert list(surgery.memberships.values_list("user__email", flat=True)) == [surgery.admin.email]
    assert gp.get(page(practice_grant)).status_code == 404  # the practice's patients went with it


def test_a_stranger_to_the_practice_gets_404s_and_changes_nothing(surgery, alice):
    stranger_dr = make_clinician("stranger@elsewhere.example")
    other = practices.create_practice(stranger_dr, "Elsewhere Clinic")
    gp_row = membership(surgery, surgery.gp).pk
    urls = [
        (reverse("clinician-practice-add-member", args=[surgery.uuid]), {"email": stranger_dr.email}),
        (reverse("clinician-practice-add-member", args=[surgery.uuid]), {"email": ""}),
        (reverse("clinician-practice-remove-member", args=[surgery.uuid, gp_row]), {}),
        (reverse("clinician-practice-make-admin", args=[surgery.uuid, gp_row]), {}),
    ]
    for client in (signed_in(stranger_dr), signed_in(alice)):
        assert client.get(reverse("clinician-practice", args=[surgery.uuid])).status_code == 404
        for url, data in urls:
            assert client.post(url, data).status_code == 404, url
    # An admin of one practice cannot reach another practice's members through their own.
    elsewhere = signed_in(stranger_dr)
    assert elsewhere.post(reverse("clinician-practice-remove-member", args=[other.uuid, gp_row])).status_code == 404
    assert elsewhere.post(reverse("clinician-practice-make-admin", args=[other.uuid, gp_row])).status_code == 404
    anonymous = Client().get(reverse("clinician-practice", args=[surgery.uuid]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("account_login"))
    assert surgery.memberships.count() == 2 and membership(surgery, surgery.gp).role == "member"


def test_the_last_admin_cannot_leave_until_they_make_another_admin(surgery):
    admin = signed_in(surgery.admin)
    own_row = membership(surgery, surgery.admin).pk
    leave = reverse("clinician-practice-remove-member", args=[surgery.uuid, own_row])

    refused = admin.post(leave)
    assert refused.status_code == 400 and "needs an admin" in refused.content.decode()
    assert membership(surgery, surgery.admin).is_admin

    promote = reverse("clinician-practice-make-admin", args=[surgery.uuid, membership(surgery, surgery.gp).pk])
    assert admin.post(promote).status_code == 302
    left = admin.post(leave)
    assert left.status_code == 302 and left["Location"] == reverse("clinician-practices")
    assert list(surgery.memberships.values_list("user__email", "role")) == [(surgery.gp.email, "admin")]


def test_an_admin_removes_another_admin(surgery):
    practices.make_admin(surgery.admin, surgery.uuid, membership(surgery, surgery.gp).pk)
    practices.remove_member(surgery.gp, surgery.uuid, membership(surgery, surgery.admin).pk)
    assert list(surgery.memberships.values_list("user__email", "role")) == [(surgery.gp.email, "admin")]


@pytest.mark.django_db(transaction=True)
def test_two_admins_removing_each_other_at_once_leave_one():
    """Membership changes to one practice queue on its row: both see another admin otherwise."""
    rounds = 8
    for n in range(rounds):
        one, two = make_clinician(f"one{n}@race.example"), make_clinician(f"two{n}@race.example")
        practice = practices.create_practice(one, f"Race {n}")
        practices.add_member(one, practice.uuid, two.email)
        practices.make_admin(one, practice.uuid, membership(practice, two).pk)
        start = threading.Barrier(2)
        outcomes: list = []

        def remove(actor, target, practice=practice, start=start, outcomes=outcomes):
            try:
                start.wait()
                practices.remove_member(actor, practice.uuid, membership(practice, target).pk)
                outcomes.append("removed")
            except Exception as refused:  # the loser finds itself gone, or the other the last admin
                outcomes.append(type(refused).__name__)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=remove, args=pair) for pair in ((one, two), (two, one))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert practice.memberships.filter(role="admin").count() == 1, (n, outcomes)
        assert outcomes.count("removed") == 1


@pytest.mark.django_db(transaction=True)
def test_two_members_accepting_two_codes_from_one_patient_at_once_leave_one_share():
    """The practice holds one share per patient: the second acceptance queues and replaces the first."""
    for n in range(6):
        admin, gp = make_clinician(f"admin{n}@race.example"), make_clinician(f"gp{n}@race.example")
        practice = practices.create_practice(admin, f"Race {n}")
        practices.add_member(admin, practice.uuid, gp.email)
        patient = make_user(f"patient{n}@race.example")
        until = timezone.now() + timedelta(days=90)
        offers = [grants.create_code(patient, {}, until)[1] for _ in range(2)]
        start = threading.Barrier(2)
        outcomes: list = []

        def accept(code, clinician, practice=practice, start=start, outcomes=outcomes):
            try:
                start.wait()
                grants.redeem_code(code, clinician, practice)
                outcomes.append("accepted")
            except Exception as failed:
                outcomes.append(repr(failed))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=accept, args=pair) for pair in zip(offers, (admin, gp), strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert outcomes == ["accepted", "accepted"], (n, outcomes)
        assert Grant.objects.filter(patient=patient, practice=practice, revoked_at__isnull=True).count() == 1


def test_django_admin_adds_only_clinicians_to_a_practice(client, surgery, alice):
    User.objects.create_superuser(email="ops@example.org", password="correct horse battery")  # noqa: S106
    client.login(email="ops@example.org", password="correct horse battery")  # noqa: S106
    form = {
        "name": "Admin-made Practice",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-role": "admin",
    }
    refused = client.post("/admin/sharing/practice/add/", {**form, "memberships-0-user": alice.pk})
    assert refused.status_code == 200 and "Only clinician accounts" in refused.content.decode()
    assert not Practice.objects.filter(name="Admin-made Practice").exists()

    added = client.post("/admin/sharing/practice/add/", {**form, "memberships-0-user": surgery.gp.pk})
    assert added.status_code == 302
    assert membership(Practice.objects.get(name="Admin-made Practice"), surgery.gp).is_admin


# --- FHIR ---------------------------------------------------------------------------------------


def test_the_fhir_patient_id_is_one_per_patient_and_practice(practice_grant, surgery, dr):
    patient = practice_grant.patient

    def exported_id(client, grant) -> str:
        response = client.get(reverse("clinician-export-fhir", args=[grant.uuid]))
        assert response.status_code == 200
        [resource] = [e["resource"] for e in response.json()["entry"] if e["resource"]["resourceType"] == "Patient"]
        return resource["id"]

    by_admin = exported_id(signed_in(surgery.admin), practice_grant)
    assert exported_id(signed_in(surgery.gp), practice_grant) == by_admin  # every member, one record

    grants.revoke(practice_grant)
    again = make_grant(patient, surgery.gp, practice=surgery)  # shared again, accepted by another member
    assert exported_id(signed_in(surgery.admin), again) == by_admin

    # The admin's own share, another practice's and the same practice's for another patient differ.
    direct = make_grant(patient, surgery.admin)
    other = make_grant(patient, dr, practice=practices.create_practice(dr, "Elsewhere Clinic"))
    bob = make_user("bob2@example.org")
    others = {fhir.patient_id(direct), fhir.patient_id(other), fhir.patient_id(make_grant(bob, dr, practice=surgery))}
    assert by_admin not in others and len(others) == 3


def test_the_api_lists_no_members_once_a_practice_share_is_over(practice_grant, surgery):
    # As the /sharing/ page: the members are who can read now, and nobody can once it is revoked.
    api = patient_api(practice_grant.patient)
    assert api.post(reverse("share-revoke", args=[practice_grant.uuid])).data["practice"]["members"] == []
    practices.add_member(surgery.admin, surgery.uuid, make_clinician("later@riverside.example").email)
    [share] = api.get(reverse("shares")).data["results"]
    assert share["status"] == "revoked" and share["practice"]["name"] == "Riverside Surgery"
    assert share["practice"]["members"] == []
    assert api.get(reverse("share-detail", args=[practice_grant.uuid])).data["practice"]["members"] == []
