"""Hostile input on every diary door: a 4xx answer, never a 5xx, and nothing stored.

Oversized bodies, odd Unicode (NUL, lone surrogates, bidi overrides, 10,000
characters), dates far in the future and far in the past, wrong content types,
and another person's ids in every field that names a row.
"""

import json
import uuid
from datetime import date, datetime

import pytest
from django.test import Client

from diary.models import CheckIn, DoseChange, Episode, MedicationCourse

pytestmark = pytest.mark.django_db

STARTED = "2026-11-03T03:10:00+00:00"


def raw_json_client(user) -> Client:
    """Django's own client: it sends bytes as they are (DRF's test client would re-encode)."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def stored_rows() -> tuple[int, int, int, int]:
    return (
        Episode.objects.count(),
        CheckIn.objects.count(),
        MedicationCourse.objects.count(),
        DoseChange.objects.count(),
    )


def post_raw(client: Client, path: str, text: str, content_type: str = "application/json"):
    # Lone surrogates cannot be encoded as UTF-8: send them as JSON's \ud800 escapes, as a hostile client would.
    return client.post(path, data=text.encode("utf-8", "surrogatepass"), content_type=content_type)


def episode_json(**fields) -> str:
    body = {"id": str(uuid.uuid4()), "started_at": STARTED, "muscle": "calf", "side": "left", **fields}
    return json.dumps(body)  # ensure_ascii: odd characters travel as \u escapes


ODD_TEXT = {
    "NUL byte": "cramp\x00",
    "lone high surrogate": "cramp \ud800",
    "lone low surrogate": "\udfff",
    "right-to-left override": "calf \u202egel tfel",
    "left-to-right isolate": "\u2066note",
    "escape control": "\x1b[31mred",
    "zero-width space": "Simva\u200bstatin",
    "soft hyphen": "Simva\u00adstatin",
    "word joiner": "\u2060Simvastatin",
    "byte-order mark": "Simvastatin\ufeff",
    "tag characters": "statin\U000e0069\U000e0067",
    "10,000 characters": "x" * 10_000,
}


@pytest.mark.parametrize("text", ODD_TEXT.values(), ids=ODD_TEXT.keys())
@pytest.mark.parametrize(
    ("path", "make_body"),
    [
        ("/api/v1/episodes/", lambda text: episode_json(notes=text)),
        ("/api/v1/checkins/", lambda text: json.dumps({"date": "2026-11-02", "no_cramps": True, "notes": text})),
        (
            "/api/v1/medications/",
            lambda text: json.dumps({"name": text, "drug_class": "statin", "started_on": "2026-01-01"}),
        ),
        (
            "/api/v1/medications/",
            lambda text: json.dumps({"name": "x", "drug_class": "statin", "started_on": "2026-01-01", "dose": text}),
        ),
    ],
    ids=["episode notes", "check-in notes", "medication name", "medication dose"],
)
def test_odd_unicode_is_refused_with_a_message(alice, path, make_body, text):
    response = post_raw(raw_json_client(alice), path, make_body(text))
    assert response.status_code == 400, response.content[:300]
    assert response.json()  # a message (per field where the parser let the text through), never empty
    assert stored_rows() == (0, 0, 0, 0)


def test_odd_unicode_in_a_choice_or_an_id_is_refused(alice):
    client = raw_json_client(alice)
    for body in [
        episode_json(muscle="calf\x00"),
        episode_json(side="\ud800"),
        episode_json(id="\u202e" + str(uuid.uuid4())),
        episode_json(started_at="2026-11-03T03:10:00\x00+00:00"),
    ]:
        assert post_raw(client, "/api/v1/episodes/", body).status_code == 400
    assert stored_rows() == (0, 0, 0, 0)


def test_odd_unicode_in_keys_and_in_a_sync_batch_is_refused(alice):
    client = raw_json_client(alice)
    for key in ["\\ud800", "\\u0000"]:
        body = episode_json()[:-1] + f', "{key}": "x"}}'
        assert post_raw(client, "/api/v1/episodes/", body).status_code == 400
    # Text the JSON parser lets through is refused record by record.
    parsable = {name: text for name, text in ODD_TEXT.items() if "\x00" not in text and "surrogate" not in name}
    records = [{"type": "episode", "data": json.loads(episode_json(notes=text))} for text in parsable.values()]
    response = post_raw(client, "/api/v1/sync/", json.dumps({"records": records}))
    assert response.status_code == 200
    assert {result["status"] for result in response.json()["results"]} == {"invalid"}
    assert stored_rows() == (0, 0, 0, 0)


def test_ordinary_unicode_is_stored_unchanged(alice):
    # The joiners emoji and many scripts need stay: a family emoji, Persian with a ZWNJ, Hindi.
    notes = "Crampe au mollet gauche — 痙攣 🦵, עברית, العربية, 👨\u200d👩\u200d👧, می\u200cخواهم, क्\u200dष"
    response = post_raw(raw_json_client(alice), "/api/v1/episodes/", episode_json(notes=notes))
    assert response.status_code == 201
    assert Episode.objects.get().notes == notes


def test_an_oversized_body_is_refused_before_it_is_read(alice):
    client = raw_json_client(alice)
    huge = episode_json(notes="x" * 1_100_000)
    response = post_raw(client, "/api/v1/episodes/", huge)
    assert response.status_code == 413
    records = [{"type": "episode", "data": json.loads(episode_json(notes="y" * 1900))} for _ in range(600)]
    assert post_raw(client, "/api/v1/sync/", json.dumps({"records": records})).status_code == 413
    assert stored_rows() == (0, 0, 0, 0)


def test_a_lying_content_length_is_a_400(alice):
    response = raw_json_client(alice).generic(
        "POST", "/api/v1/episodes/", episode_json(), content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert stored_rows() == (0, 0, 0, 0)


def test_deeply_nested_json_is_a_400(alice):
    deep = "[" * 100_000 + "]" * 100_000
    response = post_raw(raw_json_client(alice), "/api/v1/sync/", '{"records": ' + deep + "}")
    assert 400 <= response.status_code < 500
    assert stored_rows() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "started_at",
    [
        "9999-12-31T23:59:59+00:00",
        "2999-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:00",
        "1900-06-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "2026-02-30T03:00:00Z",
        "2026-11-03T03:10:00+25:00",
        "-2026-11-03T03:10:00Z",
        "1e309",
    ],
)
def test_far_future_far_past_and_impossible_start_times_are_refused(alice, started_at):
    response = post_raw(raw_json_client(alice), "/api/v1/episodes/", episode_json(started_at=started_at))
    assert response.status_code == 400
    assert "started_at" in response.json()
    assert stored_rows() == (0, 0, 0, 0)


@pytest.mark.parametrize("day", ["9999-12-31", "2999-01-01", "0001-01-01", "1899-12-31", "2026-13-01", "99999-01-01"])
def test_far_dates_are_refused_on_check_ins_medications_and_dose_changes(alice, day):
    client = raw_json_client(alice)
    course = MedicationCourse.objects.create(
        user=alice, name="statin", drug_class="statin", started_on=date(2026, 1, 1)
    )
    bodies = {
        "/api/v1/checkins/": {"date": day, "no_cramps": True},
        "/api/v1/medications/": {"name": "x", "drug_class": "statin", "started_on": day},
        "/api/v1/dose-changes/": {"medication": str(course.uuid), "changed_on": day, "direction": "increase"},
    }
    for path, body in bodies.items():
        response = post_raw(client, path, json.dumps(body))
        assert response.status_code == 400, (path, response.content[:200])
    assert stored_rows() == (0, 0, 1, 0)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", None),
        ("application/xml", "<episode><muscle>calf</muscle></episode>"),
        ("application/x-www-form-urlencoded", None),  # a JSON body labelled as a form
        ("multipart/form-data; boundary=x", None),  # labelled multipart, no parts
        ("application/json", "{not json"),
        ("application/json", '"just a string"'),
        ("application/json", "[1, 2, 3]"),
        ("application/json", "null"),
        ("application/json", ""),
    ],
)
def test_wrong_content_types_and_shapes_are_refused(alice, content_type, body):
    client = raw_json_client(alice)
    text = episode_json() if body is None else body
    for path in ["/api/v1/episodes/", "/api/v1/checkins/", "/api/v1/medications/", "/api/v1/sync/"]:
        response = client.post(path, data=text.encode(), content_type=content_type)
        assert 400 <= response.status_code < 500, (path, content_type, response.status_code)
    assert stored_rows() == (0, 0, 0, 0)


def test_invalid_utf8_is_refused(alice):
    response = raw_json_client(alice).post(
        "/api/v1/episodes/", data=b'{"notes": "\xff\xfe", "muscle": "calf"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert stored_rows() == (0, 0, 0, 0)


@pytest.fixture
def bobs_rows(bob):
    episode = Episode.objects.create(
        user=bob, started_at=datetime.fromisoformat(STARTED), muscle="calf", side="left", notes="bob's"
    )
    checkin = CheckIn.objects.create(user=bob, date=date(2026, 11, 1), no_cramps=True, notes="bob's")
    course = MedicationCourse.objects.create(user=bob, name="bob's", drug_class="statin", started_on=date(2026, 1, 1))
    change = DoseChange.objects.create(course=course, changed_on=date(2026, 2, 1), direction="increase")
    return episode, checkin, course, change


def bobs_snapshot(bob):
    return (
        list(Episode.objects.filter(user=bob).values()),
        list(CheckIn.objects.filter(user=bob).values()),
        list(MedicationCourse.objects.filter(user=bob).values()),
        list(DoseChange.objects.filter(course__user=bob).values()),
    )


def test_another_persons_ids_in_every_field_are_refused_and_change_nothing(alice, bob, bobs_rows):
    episode, checkin, course, change = bobs_rows
    before = bobs_snapshot(bob)
    client = raw_json_client(alice)
    detail_paths = [
        f"/api/v1/episodes/{episode.uuid}/",
        f"/api/v1/medications/{course.uuid}/",
        f"/api/v1/dose-changes/{change.uuid}/",
    ]
    for path in detail_paths:
        assert client.get(path).status_code == 404
        assert client.patch(path, data={"notes": "mine now"}, content_type="application/json").status_code == 404
        assert client.put(path, data={"notes": "mine now"}, content_type="application/json").status_code == 404
        assert client.delete(path).status_code == 404
    # Check-ins are addressed by date: Alice's own (empty) date, never Bob's row.
    assert client.get("/api/v1/checkins/2026-11-01/").status_code == 404
    assert client.delete("/api/v1/checkins/2026-11-01/").status_code == 404

    # Writable references: Bob's course as the course of Alice's dose change.
    body = {"medication": str(course.uuid), "changed_on": "2026-03-01", "direction": "decrease"}
    response = client.post("/api/v1/dose-changes/", data=body, content_type="application/json")
    assert response.status_code == 400 and "medication" in response.json()
    own = MedicationCourse.objects.create(user=alice, name="mine", drug_class="statin", started_on=date(2026, 1, 1))
    mine = DoseChange.objects.create(course=own, changed_on=date(2026, 2, 1), direction="increase")
    response = client.patch(
        f"/api/v1/dose-changes/{mine.uuid}/", data={"medication": str(course.uuid)}, content_type="application/json"
    )
    assert response.status_code == 400 and "medication" in response.json()

    # Owner fields that a client might try to set are not fields at all: the row is Alice's.
    body = json.loads(episode_json(user=bob.pk, user_id=bob.pk, owner=bob.email))
    assert client.post("/api/v1/episodes/", data=body, content_type="application/json").status_code == 201
    assert Episode.objects.filter(user=alice).count() == 1

    # Bob's uuids reused by Alice name Alice's own rows (uuids are unique per person), never Bob's.
    response = client.post(
        "/api/v1/episodes/", data=episode_json(id=str(episode.uuid)), content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["notes"] == ""
    sync = {
        "records": [{"type": "checkin", "data": {"id": str(checkin.uuid), "date": "2026-11-05", "no_cramps": True}}]
    }
    response = client.post("/api/v1/sync/", data=sync, content_type="application/json")
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "created", response.json()[
        "results"
    ][0]["errors"]
    assert CheckIn.objects.get(user=alice).notes == ""

    assert bobs_snapshot(bob) == before
    assert DoseChange.objects.filter(course=own).count() == 1
    assert DoseChange.objects.get(pk=mine.pk).course_id == own.pk


@pytest.mark.parametrize(
    "query", ["page=", "page_size=", "page_size=abc", "page_size=0", "page_size=-1", "until=", "since=", "muscle="]
)
def test_empty_or_malformed_list_parameters_are_a_400_not_ignored(alice, query):
    response = raw_json_client(alice).get(f"/api/v1/episodes/?{query}")
    assert response.status_code == 400, response.content[:200]
    assert query.split("=")[0] in response.json()


def test_a_page_that_is_not_a_number_or_past_the_end_is_a_404(alice):
    client = raw_json_client(alice)
    for query in ["page=0", "page=last", "page=abc", "page=2"]:
        assert client.get(f"/api/v1/episodes/?{query}").status_code == 404, query
