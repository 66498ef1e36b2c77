import uuid

import pytest

from diary.models import DoseChange, MedicationCourse

pytestmark = pytest.mark.django_db


def course_body(**overrides):
    body = {"id": str(uuid.uuid4()), "name": "Atorvastatin", "drug_class": "statin", "started_on": "2026-09-01"}
    body.update(overrides)
    return body


def test_a_course_is_created_with_its_kind(alice_api):
    response = alice_api.post("/api/v1/medications/", course_body(dose="20 mg"), format="json")
    assert response.status_code == 201, response.data
    assert response.data["kind"] == "medicine"
    supplement = alice_api.post("/api/v1/medications/", course_body(name="Mg", drug_class="magnesium"), format="json")
    assert supplement.data["kind"] == "supplement"


def test_course_create_is_idempotent_and_conflicts_on_change(alice_api, alice):
    body = course_body()
    assert alice_api.post("/api/v1/medications/", body, format="json").status_code == 201
    assert alice_api.post("/api/v1/medications/", body, format="json").status_code == 200
    assert alice_api.post("/api/v1/medications/", {**body, "name": "Simvastatin"}, format="json").status_code == 409
    assert MedicationCourse.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize(
    "overrides, field, fragment",
    [
        ({"stopped_on": "2026-08-01"}, "stopped_on", "before the start"),
        ({"drug_class": "aspirin"}, "drug_class", "Allowed: thiazide_diuretic"),
        ({"name": ""}, "name", "blank"),
        ({"started_on": "1900-01-01"}, "started_on", "before 1950"),
    ],
)
def test_bad_courses_get_field_messages(alice_api, overrides, field, fragment):
    response = alice_api.post("/api/v1/medications/", course_body(**overrides), format="json")
    assert response.status_code == 400
    assert fragment in str(response.data[field])
    assert MedicationCourse.objects.count() == 0


def test_stopping_a_course_later(alice_api, alice):
    body = course_body()
    alice_api.post("/api/v1/medications/", body, format="json")
    response = alice_api.patch(f"/api/v1/medications/{body['id']}/", {"stopped_on": "2026-10-01"}, format="json")
    assert response.status_code == 200
    assert str(MedicationCourse.objects.get(user=alice).stopped_on) == "2026-10-01"


def test_a_dose_change_is_listed_under_its_course(alice_api):
    course = course_body()
    alice_api.post("/api/v1/medications/", course, format="json")
    response = alice_api.post(
        "/api/v1/dose-changes/",
        {"medication": course["id"], "changed_on": "2026-10-01", "direction": "increase", "dose": "40 mg"},
        format="json",
    )
    assert response.status_code == 201, response.data
    listed = alice_api.get(f"/api/v1/medications/{course['id']}/").data
    assert listed["dose_changes"][0]["direction"] == "increase"


def test_a_dose_change_before_the_course_started_is_refused(alice_api):
    course = course_body()
    alice_api.post("/api/v1/medications/", course, format="json")
    response = alice_api.post(
        "/api/v1/dose-changes/",
        {"medication": course["id"], "changed_on": "2026-01-01", "direction": "increase"},
        format="json",
    )
    assert response.status_code == 400
    assert "before the course started" in str(response.data["changed_on"])


def test_a_dose_change_cannot_point_at_another_users_course(alice_api, bob_api, bob):
    bobs = course_body()
    bob_api.post("/api/v1/medications/", bobs, format="json")
    response = alice_api.post(
        "/api/v1/dose-changes/",
        {"medication": bobs["id"], "changed_on": "2026-10-01", "direction": "increase"},
        format="json",
    )
    assert response.status_code == 400
    assert "does not exist" in str(response.data["medication"])
    assert DoseChange.objects.count() == 0


def test_a_dose_change_cannot_be_moved_onto_another_users_course(alice_api, bob_api):
    mine, bobs = course_body(), course_body()
    alice_api.post("/api/v1/medications/", mine, format="json")
    bob_api.post("/api/v1/medications/", bobs, format="json")
    change = {"id": str(uuid.uuid4()), "medication": mine["id"], "changed_on": "2026-10-01", "direction": "increase"}
    alice_api.post("/api/v1/dose-changes/", change, format="json")
    response = alice_api.patch(f"/api/v1/dose-changes/{change['id']}/", {"medication": bobs["id"]}, format="json")
    assert response.status_code == 400
    assert DoseChange.objects.get().course.uuid == uuid.UUID(mine["id"])


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_course_and_dose_change_are_404(alice_api, bob_api, bob, method):
    course = course_body()
    bob_api.post("/api/v1/medications/", course, format="json")
    change = {"id": str(uuid.uuid4()), "medication": course["id"], "changed_on": "2026-10-01", "direction": "increase"}
    bob_api.post("/api/v1/dose-changes/", change, format="json")
    call = getattr(alice_api, method)
    assert call(f"/api/v1/medications/{course['id']}/", {**course, "name": "X"}, format="json").status_code == 404
    assert call(f"/api/v1/dose-changes/{change['id']}/", {"dose": "1 g"}, format="json").status_code == 404
    assert MedicationCourse.objects.get(user=bob).name == "Atorvastatin"
    assert DoseChange.objects.get().dose == ""


def test_lists_hide_other_users_rows(alice_api, bob_api):
    course = course_body()
    bob_api.post("/api/v1/medications/", course, format="json")
    bob_api.post(
        "/api/v1/dose-changes/",
        {"medication": course["id"], "changed_on": "2026-10-01", "direction": "increase"},
        format="json",
    )
    assert alice_api.get("/api/v1/medications/").data["count"] == 0
    assert alice_api.get("/api/v1/dose-changes/").data["count"] == 0


def test_a_dose_change_id_cannot_be_reused_on_another_course(alice_api):
    first, second = course_body(), course_body(name="Simvastatin")
    alice_api.post("/api/v1/medications/", first, format="json")
    alice_api.post("/api/v1/medications/", second, format="json")
    change = {"id": str(uuid.uuid4()), "medication": first["id"], "changed_on": "2026-10-01", "direction": "increase"}
    assert alice_api.post("/api/v1/dose-changes/", change, format="json").status_code == 201
    moved = alice_api.post("/api/v1/dose-changes/", {**change, "medication": second["id"]}, format="json")
    assert moved.status_code == 409
    assert DoseChange.objects.count() == 1
