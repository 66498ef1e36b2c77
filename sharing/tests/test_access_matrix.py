"""Every clinician page and API endpoint × every kind of caller × every method.

Only a clinician with an active grant (theirs, or their practice's while they are a
member) reads, and only with GET; every other caller gets nothing (404 for anyone
signed in, a login redirect or 403 for the anonymous), writes are always refused,
and an access-log row, naming the clinician who read, appears only for a successful
read.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from diary.models import CheckIn, Episode, MedicationCourse
from sharing import practices
from sharing.models import AccessLog

from .conftest import make_clinician, make_grant, signed_in

PAGES = {
    "clinician-patient": "patient_page",
    "clinician-report": "report",
    "clinician-report-pdf": "report_pdf",
    "clinician-export-csv": "export_csv",
    "clinician-export-fhir": "export_fhir",
}
APIS = {
    "clinician-api-patient": "api:patient",
    "clinician-api-episodes": "api:episodes",
    "clinician-api-checkins": "api:checkins",
    "clinician-api-medications": "api:medications",
    "clinician-api-findings": "api:findings",
}
METHODS = ["get", "post", "put", "patch", "delete"]
CALLERS = [
    "anonymous",
    "owner",
    "other_patient",
    "clinician_with_grant",
    "clinician_without_grant",
    "clinician_of_another_patient",
    "clinician_expired_grant",
    "clinician_revoked_grant",
    "practice_admin",
    "practice_member",
    "removed_practice_member",
    "member_of_another_practice",
    "practice_member_asking_for_a_clinicians_share",
]
# The callers who read: each asks for a share they hold, directly or through their practice.
READERS = ("clinician_with_grant", "practice_admin", "practice_member")


@pytest.fixture
def world(small_diary, dr, bob):
    """Alice shares with dr, and with Riverside Surgery (its admin accepted for it; one member
    was removed since); the other clinicians hold no, another patient's, expired or revoked
    grants, or belong to another practice, which Bob shares with."""
    now = timezone.now()
    grant = make_grant(small_diary, dr)
    expired_dr = make_clinician("expired@clinic.example")
    revoked_dr = make_clinician("revoked@clinic.example")
    other_dr = make_clinician("other@clinic.example")
    nobody_dr = make_clinician("nobody@clinic.example")
    expired = make_grant(
        grant.patient,
        expired_dr,
        created_at=now - timedelta(days=100),
        offer_expires_at=now - timedelta(days=99),
        expires_at=now - timedelta(seconds=1),
    )
    revoked = make_grant(grant.patient, revoked_dr, revoked_at=now - timedelta(minutes=1))
    make_grant(bob, other_dr)

    admin_dr, member_dr, removed_dr = (make_clinician(f"{n}@riverside.example") for n in ("admin", "gp", "locum"))
    surgery = practices.create_practice(admin_dr, "Riverside Surgery")
    practices.add_member(admin_dr, surgery.uuid, member_dr.email)
    locum = practices.add_member(admin_dr, surgery.uuid, removed_dr.email)
    practice_grant = make_grant(grant.patient, admin_dr, practice=surgery)
    practices.remove_member(admin_dr, surgery.uuid, locum.pk)
    hilltop_dr = make_clinician("physio@hilltop.example")
    make_grant(bob, hilltop_dr, practice=practices.create_practice(hilltop_dr, "Hilltop Physio"))
    callers = {
        "anonymous": (None, grant),
        "owner": (grant.patient, grant),
        "other_patient": (bob, grant),
        "clinician_with_grant": (grant.clinician, grant),
        "clinician_without_grant": (nobody_dr, grant),
        "clinician_of_another_patient": (other_dr, grant),
        "clinician_expired_grant": (expired_dr, expired),
        "clinician_revoked_grant": (revoked_dr, revoked),
        "practice_admin": (admin_dr, practice_grant),
        "practice_member": (member_dr, practice_grant),
        "removed_practice_member": (removed_dr, practice_grant),
        "member_of_another_practice": (hilltop_dr, practice_grant),
        "practice_member_asking_for_a_clinicians_share": (member_dr, grant),
    }
    return {
        "grant": grant,
        "callers": {
            name: (signed_in(user) if user else Client(), share, user) for name, (user, share) in callers.items()
        },
    }


def diary_rows(patient) -> tuple[int, int, int]:
    return (
        Episode.objects.filter(user=patient).count(),
        CheckIn.objects.filter(user=patient).count(),
        MedicationCourse.objects.filter(user=patient).count(),
    )


def call(client, method, url):
    return (
        getattr(client, method)(url, data="{}", content_type="application/json") if method != "get" else client.get(url)
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", PAGES)
def test_pages(world, name, caller):
    for method in METHODS:
        check_page(world, name, caller, method)


def check_page(world, name, caller, method):
    client, grant, user = world["callers"][caller]
    before_rows, before_log = diary_rows(grant.patient), AccessLog.objects.count()

    response = call(client, method, reverse(name, args=[grant.uuid]))

    if method != "get":
        assert response.status_code == 405, (name, caller, method, response.status_code)
    elif caller == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    elif caller in READERS:
        assert response.status_code == 200, (name, caller, method, response.status_code)
    else:
        assert response.status_code == 404, (name, caller, method, response.status_code)
    logged = AccessLog.objects.count() - before_log
    if response.status_code == 200:
        row = AccessLog.objects.latest("id")
        assert logged == 1 and row.what == PAGES[name] and row.grant == grant
        assert row.clinician == user and row.clinician_email == user.email and row.patient == grant.patient
    else:
        assert logged == 0
    assert diary_rows(grant.patient) == before_rows, (name, caller, method)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", APIS)
def test_api(world, name, caller):
    for method in METHODS:
        check_api(world, name, caller, method)


def check_api(world, name, caller, method):
    client, grant, user = world["callers"][caller]
    before_rows, before_log = diary_rows(grant.patient), AccessLog.objects.count()

    response = call(client, method, reverse(name, args=[grant.uuid]))

    if caller == "anonymous":
        assert response.status_code == 403, (name, caller, method, response.status_code)
    elif caller in ("owner", "other_patient"):
        assert response.status_code == 404, (name, caller, method, response.status_code)
    elif method != "get":
        assert response.status_code == 405, (name, caller, method, response.status_code)
    elif caller in READERS:
        assert response.status_code == 200, (name, caller, method, response.status_code)
    else:
        assert response.status_code == 404, (name, caller, method, response.status_code)
    logged = AccessLog.objects.count() - before_log
    if response.status_code == 200:
        row = AccessLog.objects.latest("id")
        assert logged == 1 and row.what == APIS[name] and row.grant == grant and row.clinician == user
    else:
        assert logged == 0
    assert diary_rows(grant.patient) == before_rows, (name, caller, method)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", ["clinician-dashboard", "clinician-api-patients"])
def test_lists_show_only_active_grants(world, name, caller):
    for method in METHODS:
        check_list(world, name, caller, method)


def check_list(world, name, caller, method):
    client, grant, user = world["callers"][caller]
    before_log = AccessLog.objects.count()
    is_api = name.startswith("clinician-api")

    response = call(client, method, reverse(name))

    clinician = caller not in ("anonymous", "owner", "other_patient")
    if caller == "anonymous":
        assert response.status_code == (403 if is_api else (405 if method != "get" else 302)), (
            name,
            caller,
            method,
            response.status_code,
        )
    elif not clinician:
        assert response.status_code == (404 if is_api or method == "get" else 405), (
            name,
            caller,
            method,
            response.status_code,
        )
    elif method != "get":
        assert response.status_code == 405, (name, caller, method, response.status_code)
    else:
        assert response.status_code == 200, (name, caller, method, response.status_code)
    logged = list(AccessLog.objects.filter(id__gt=0).order_by("id"))[before_log:]
    if response.status_code == 200:
        body = response.content.decode()
        assert (str(grant.uuid) in body) == (caller in READERS), caller
        if caller in READERS:
            assert [(r.grant_id, r.what) for r in logged] == [(grant.pk, "api:patients" if is_api else "dashboard")]
            assert [r.clinician for r in logged] == [user]
        elif caller in ("clinician_of_another_patient", "member_of_another_practice"):
            assert [r.patient.email for r in logged] == ["bob@example.org"]
        elif caller == "practice_member_asking_for_a_clinicians_share":
            assert [(r.grant.practice.name, r.clinician) for r in logged] == [("Riverside Surgery", user)]
        else:
            assert logged == []
    else:
        assert logged == []


def test_a_malformed_share_id_is_a_plain_404(grant):
    client = signed_in(grant.clinician)
    for url in ("/clinician/patients/not-a-uuid/", "/api/v1/clinician/patients/not-a-uuid/episodes/"):
        assert client.get(url).status_code == 404
    assert AccessLog.objects.count() == 0


def test_a_patient_account_is_never_a_clinician_even_with_a_grant_row(grant, db):
    impostor = make_user("impostor@example.org")
    grant.clinician = impostor
    grant.save(update_fields=["clinician"])
    client = signed_in(impostor)
    assert client.get(reverse("clinician-patient", args=[grant.uuid])).status_code == 404
    assert client.get(reverse("clinician-api-episodes", args=[grant.uuid])).status_code == 404
    assert AccessLog.objects.count() == 0
