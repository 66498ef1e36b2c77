"""Every clinician page and API endpoint × every kind of caller × every method.

Only a clinician with an active grant reads, and only with GET; every other
caller gets nothing (404 for anyone signed in, a login redirect or 403 for the
anonymous), writes are always refused, and an access-log row appears only for
a successful read.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from diary.models import CheckIn, Episode, MedicationCourse
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
]


@pytest.fixture
def world(small_diary, dr, bob):
    """Alice shares with dr; the other clinicians hold no, another patient's, expired or revoked grants."""
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
    return {
        "grant": grant,
        "callers": {
            "anonymous": (Client(), grant),
            "owner": (signed_in(grant.patient), grant),
            "other_patient": (signed_in(bob), grant),
            "clinician_with_grant": (signed_in(grant.clinician), grant),
            "clinician_without_grant": (signed_in(nobody_dr), grant),
            "clinician_of_another_patient": (signed_in(other_dr), grant),
            "clinician_expired_grant": (signed_in(expired_dr), expired),
            "clinician_revoked_grant": (signed_in(revoked_dr), revoked),
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
    client, grant = world["callers"][caller]
    before_rows, before_log = diary_rows(grant.patient), AccessLog.objects.count()

    response = call(client, method, reverse(name, args=[grant.uuid]))

    if method != "get":
        assert response.status_code == 405, (name, caller, method, response.status_code)
    elif caller == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    elif caller == "clinician_with_grant":
        assert response.status_code == 200, (name, caller, method, response.status_code)
    else:
        assert response.status_code == 404, (name, caller, method, response.status_code)
    logged = AccessLog.objects.count() - before_log
    if response.status_code == 200:
        row = AccessLog.objects.latest("id")
        assert logged == 1 and row.what == PAGES[name] and row.grant == grant
        assert row.clinician == grant.clinician and row.patient == grant.patient
    else:
        assert logged == 0
    assert diary_rows(grant.patient) == before_rows, (name, caller, method)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", APIS)
def test_api(world, name, caller):
    for method in METHODS:
        check_api(world, name, caller, method)


def check_api(world, name, caller, method):
    client, grant = world["callers"][caller]
    before_rows, before_log = diary_rows(grant.patient), AccessLog.objects.count()

    response = call(client, method, reverse(name, args=[grant.uuid]))

    if caller == "anonymous":
        assert response.status_code == 403, (name, caller, method, response.status_code)
    elif caller in ("owner", "other_patient"):
        assert response.status_code == 404, (name, caller, method, response.status_code)
    elif method != "get":
        assert response.status_code == 405, (name, caller, method, response.status_code)
    elif caller == "clinician_with_grant":
        assert response.status_code == 200, (name, caller, method, response.status_code)
    else:
        assert response.status_code == 404, (name, caller, method, response.status_code)
    logged = AccessLog.objects.count() - before_log
    if response.status_code == 200:
        row = AccessLog.objects.latest("id")
        assert logged == 1 and row.what == APIS[name] and row.grant == grant
    else:
        assert logged == 0
    assert diary_rows(grant.patient) == before_rows, (name, caller, method)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", ["clinician-dashboard", "clinician-api-patients"])
def test_lists_show_only_active_grants(world, name, caller):
    for method in METHODS:
        check_list(world, name, caller, method)


def check_list(world, name, caller, method):
    client, grant = world["callers"][caller]
    before_log = AccessLog.objects.count()
    is_api = name.startswith("clinician-api")

    response = call(client, method, reverse(name))

    clinician = caller.startswith("clinician")
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
        shown = str(world["grant"].uuid) in body
        assert shown == (caller == "clinician_with_grant")
        if caller == "clinician_with_grant":
            assert [(r.grant_id, r.what) for r in logged] == [(grant.pk, "api:patients" if is_api else "dashboard")]
        elif caller == "clinician_of_another_patient":
            assert [r.patient.email for r in logged] == ["bob@example.org"]
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
