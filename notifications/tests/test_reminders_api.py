"""/api/v1/reminders/: settings, devices (owner-scoped) and their 400s."""

import base64
import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from diary.models import Episode
from notifications.models import PushSubscription, ReminderSettings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_push(push_keys):
    pass


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(endpoint="https://push.example.net/send/abc", label="Phone") -> dict:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": b64(point), "auth": b64(b"0" * 16)},
        "label": label,
    }


def test_settings_start_off_at_eight_with_quiet_nights(alice_api):
    body = alice_api.get("/api/v1/reminders/").json()
    assert body["enabled"] is False
    assert (body["time"], body["quiet_start"], body["quiet_end"]) == ("08:00", "22:00", "07:00")
    assert body["second_nudge_hours"] is None and body["email_fallback"] is False
    assert (body["channel"], body["backed_off"], body["ignored_in_row"], body["devices"]) == ("none", False, 0, [])
    point = base64.urlsafe_b64decode(body["vapid_public_key"] + "==")
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point, as pushManager.subscribe() takes


def test_turning_reminders_on_schedules_the_next_one_at_local_time(alice, alice_api):
    response = alice_api.patch(
        "/api/v1/reminders/", {"enabled": True, "time": "07:30", "second_nudge_hours": 2}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["time"] == "07:30" and response.json()["second_nudge_hours"] == 2
    reminder = ReminderSettings.objects.get(user=alice)
    local = reminder.next_at.astimezone(alice.profile.zone)
    assert (local.hour, local.minute) == (7, 30)
    alice_api.patch("/api/v1/reminders/", {"enabled": False}, format="json")
    assert ReminderSettings.objects.get(user=alice).next_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time": "23:00"}, "time"),  # inside the default quiet hours
        ({"quiet_start": "06:00", "quiet_end": "09:00"}, "time"),  # quiet hours moved over 08:00
        ({"second_nudge_hours": 7}, "second_nudge_hours"),
        ({"second_nudge_hours": 0}, "second_nudge_hours"),
        ({"enabled": "yes"}, "enabled"),
        ({"time": "8 o'clock"}, "time"),
    ],
)
def test_bad_settings_are_400_with_field_messages_and_nothing_saved(alice, alice_api, body, field):
    response = alice_api.patch("/api/v1/reminders/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    reminder = ReminderSettings.objects.get(user=alice)
    assert (reminder.time.hour, reminder.quiet_start.hour, reminder.second_nudge_hours) == (8, 22, None)


def test_subscribing_a_device_and_again_the_same_endpoint(alice, alice_api):
    first = alice_api.post("/api/v1/reminders/devices/", subscription(), format="json")
    assert first.status_code == 201, first.content
    again = alice_api.post("/api/v1/reminders/devices/", subscription(label=""), format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["label"] == "Phone"  # an empty label keeps the name it had
    body = alice_api.get("/api/v1/reminders/").json()
    assert body["channel"] == "push"
    assert [d["label"] for d in body["devices"]] == ["Phone"]


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "http://push.example.net/send/abc"},  # not https
        {"endpoint": "not a url"},
        {"keys": {"p256dh": "AAAA", "auth": b64(b"0" * 16)}},  # not a point
        {"keys": {"p256dh": None, "auth": b64(b"0" * 16)}},
        {"keys": {"auth": b64(b"0" * 16)}},
        {"keys": "both"},
    ],
)
def test_a_bad_subscription_is_400(alice_api, change):
    response = alice_api.post("/api/v1/reminders/devices/", {**subscription(), **change}, format="json")
    assert response.status_code == 400
    assert set(response.json()) & {"endpoint", "keys"}
    assert not PushSubscription.objects.exists()


def test_a_bad_auth_secret_is_400(alice_api):
    body = subscription()
    body["keys"]["auth"] = b64(b"short")
    response = alice_api.post("/api/v1/reminders/devices/", body, format="json")
    assert response.status_code == 400 and "auth" in response.json()["keys"]


def test_local_http_endpoints_only_where_allowed(alice_api, settings):
    assert (
        alice_api.post("/api/v1/reminders/devices/", subscription("http://127.0.0.1:9/p/1"), format="json").status_code
        == 201
    )
    settings.PUSH_ALLOW_LOCAL_HTTP = False
    assert (
        alice_api.post("/api/v1/reminders/devices/", subscription("http://127.0.0.1:9/p/2"), format="json").status_code
        == 400
    )


def test_it_checks_ownership_of_devices(alice, alice_api, bob, bob_api):
    device = alice_api.post("/api/v1/reminders/devices/", subscription(), format="json").json()["id"]
    assert bob_api.delete(f"/api/v1/reminders/devices/{device}/").status_code == 404
    assert PushSubscription.objects.filter(pk=device, user=alice).exists()
    assert bob_api.get("/api/v1/reminders/").json()["devices"] == []
    assert alice_api.delete(f"/api/v1/reminders/devices/{device}/").status_code == 204
    assert not PushSubscription.objects.exists()


def test_a_device_subscribed_by_another_account_moves_to_it(alice, alice_api, bob_api):
    body = subscription()
    alice_api.post("/api/v1/reminders/devices/", body, format="json")
    assert bob_api.post("/api/v1/reminders/devices/", body, format="json").status_code == 201
    assert alice_api.get("/api/v1/reminders/").json()["devices"] == []
    assert PushSubscription.objects.get().user.email == "bob@example.org"


def test_reminders_need_a_login(client):
    assert client.get("/api/v1/reminders/").status_code in (401, 403)


def json_export(reminders, episodes=()) -> object:
    """A JSON export file, as the import endpoint receives it."""
    upload = io.BytesIO(
        json.dumps(
            {"format": "cramptrack-diary", "version": 1, "episodes": list(episodes), "reminders": reminders}
        ).encode()
    )
    upload.name = "cramptrack.json"
    return upload


EPISODE = {"started_at": "2026-11-30T03:10:00+00:00", "muscle": "calf", "side": "left", "severity": 6}


@pytest.mark.parametrize(
    "reminders, message",
    [
        ({"enabled": True, "time": "23:30"}, "cramptrack.json reminders: time: This time is inside your quiet hours"),
        ({"second_nudge_hours": 9}, "cramptrack.json reminders: second_nudge_hours:"),
        ({"enabled": "sometimes"}, "cramptrack.json reminders: enabled:"),
        (["08:00"], "cramptrack.json reminders: The reminder settings must be an object."),
    ],
)
def test_bad_reminder_settings_in_an_import_are_400_and_nothing_is_saved(alice, alice_api, reminders, message):
    response = alice_api.post("/api/v1/import/", {"files": [json_export(reminders, [EPISODE])]}, format="multipart")
    assert response.status_code == 400
    assert any(line.startswith(message) for line in response.json()["errors"]), response.json()
    assert not Episode.objects.filter(user=alice).exists()
    assert alice_api.get("/api/v1/reminders/").json()["enabled"] is False


def test_an_import_preview_leaves_the_reminder_settings_as_they_are(alice, alice_api):
    upload = json_export({"enabled": True, "time": "07:15"}, [EPISODE])
    response = alice_api.post("/api/v1/import/", {"files": [upload], "dry_run": "true"}, format="multipart")
    assert response.status_code == 200, response.json()
    body = alice_api.get("/api/v1/reminders/").json()
    assert (body["enabled"], body["time"]) == (False, "08:00")
    upload = json_export({"enabled": True, "time": "07:15"}, [EPISODE])
    assert alice_api.post("/api/v1/import/", {"files": [upload]}, format="multipart").status_code == 200
    body = alice_api.get("/api/v1/reminders/").json()
    assert (body["enabled"], body["time"]) == (True, "07:15")
