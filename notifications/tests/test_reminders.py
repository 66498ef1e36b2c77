"""Morning check-in reminders: on time in each person's zone, once, only when useful, through a real Web Push
receiver (push_receiver: RFC 8030, VAPID checked, payload decrypted) and a real SMTP server."""

import re
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import in_one_window, make_user
from cramptrack.celery import app
from diary.models import CheckIn, Episode, Profile
from diary.recording import upsert_checkin
from notifications import reminders, tasks
from notifications.api import TEST_PUSHES
from notifications.emails import email_token
from notifications.models import PushSubscription, ReminderDelivery, ReminderSettings
from notifications.reminders import checkin_uuid

pytestmark = pytest.mark.django_db

# Monday 2 November 2026, 08:00 in London (GMT) is 08:00 UTC; it asks about the night of Sunday 1 November.
MONDAY_0800_LONDON = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def person(email="alice@example.org", zone="Europe/London", at=time(8), start=MONDAY_0800_LONDON, **options):
    """A verified person with reminders on at `at` local, the first one due at `start`'s day."""
    user = make_user(email, zone=zone)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    reminder = ReminderSettings(user=user, enabled=True, time=at, **options)
    reminder.schedule(user.profile.zone, after=start - timedelta(hours=1))
    reminder.save()
    return user


def device(user, service):
    """A phone that subscribed: what pushManager.subscribe() gave it, stored as the API stores it."""
    sub = service.subscribe()
    body = sub.to_json()
    PushSubscription.objects.create(
        user=user, endpoint=body["endpoint"], p256dh=body["keys"]["p256dh"], auth=body["keys"]["auth"]
    )
    return sub


def tick(now) -> list[str]:
    """One beat tick and its send tasks, at `now`."""
    return [outcome for ids in reminders.plan_all(now) for outcome in reminders.send_batch(ids, now=now).values()]


def answer(user, night: date, no_cramps=True):
    upsert_checkin(user, {"date": night.isoformat(), "no_cramps": no_cramps})


def skipped_because(user) -> list[str]:
    return list(
        ReminderDelivery.objects.filter(user=user, status="skipped")
        .order_by("night", "nudge")
        .values_list("last_error", flat=True)
    )


def test_the_reminder_reaches_the_phone_signed_and_encrypted(push_service, alice_api, alice, settings):
    sub = push_service.subscribe()
    assert (
        alice_api.post("/api/v1/reminders/devices/", {**sub.to_json(), "label": "Pixel"}, format="json").status_code
        == 201
    )
    assert alice_api.patch("/api/v1/reminders/", {"enabled": True}, format="json").status_code == 200
    due = ReminderSettings.objects.get(user=alice).next_at
    assert tick(due - timedelta(minutes=1)) == []
    assert tick(due) == ["sent"]

    [message] = push_service.messages
    night = (due.astimezone(ZoneInfo("Europe/London")).date() - timedelta(days=1)).isoformat()
    assert message.payload == {
        "type": "checkin",
        "night": night,
        "user": str(alice.pk),  # whose night: the app answers only its own
        "title": "Any cramps last night?",
        "body": "One tap answers it: a night without an answer is missing from your patterns.",
        "tag": f"checkin-{night}",
        "url": f"/checkin/?morning&date={night}",
    }
    assert push_service.refused == []
    assert message.claims["sub"] == settings.VAPID_SUBJECT
    assert int(message.headers["ttl"]) > 0
    body = alice_api.get("/api/v1/reminders/").json()
    # The key the phone subscribed with is the one that signed.
    assert message.headers["authorization"].endswith(f"k={body['vapid_public_key']}")
    assert body["devices"][0]["last_sent_at"] is not None


def test_the_test_button_pushes_to_every_device_and_says_which_are_gone(push_service, alice, alice_api):
    phone, laptop = device(alice, push_service), device(alice, push_service)
    laptop.answer = 410
    in_one_window(TEST_PUSHES)
    assert alice_api.post("/api/v1/reminders/test/").json() == {"sent": 1, "removed": 1}
    assert [p["type"] for p in push_service.received(phone)] == ["test"]
    assert PushSubscription.objects.filter(user=alice).count() == 1
    for _ in range(4):
        alice_api.post("/api/v1/reminders/test/")
    assert alice_api.post("/api/v1/reminders/test/").status_code == 429


def test_one_reminder_at_0800_local_through_a_dst_week_far_from_utc(push_service):
    # Auckland moves its clocks forward at 02:00 on Sunday 27 September 2026 (UTC+12 -> UTC+13).
    zone = ZoneInfo("Pacific/Auckland")
    first = datetime(2026, 9, 24, 8, 0, tzinfo=zone)
    user = person("kiri@example.org", zone="Pacific/Auckland", start=first)
    phone = device(user, push_service)
    sent_at = []
    for day in range(7):
        due = datetime.combine(first.date() + timedelta(days=day), time(8), tzinfo=zone).astimezone(UTC)
        assert tick(due - timedelta(minutes=1)) == []
        assert tick(due) == ["sent"]
        assert tick(due + timedelta(minutes=1)) == []
        sent_at.append(due)
        answer(user, first.date() + timedelta(days=day - 1))  # she answers each morning
    assert [s.hour for s in sent_at] == [20, 20, 20, 19, 19, 19, 19]  # 08:00 local: 20:00 UTC, then 19:00 UTC
    nights = [p["night"] for p in push_service.received(phone)]
    assert nights == [(first.date() + timedelta(days=d - 1)).isoformat() for d in range(7)]


def test_after_a_move_to_another_zone_it_comes_at_the_new_local_time(push_service):
    user = person()  # London, due at 08:00 GMT
    phone = device(user, push_service)
    Profile.objects.filter(user=user).update(timezone="Asia/Tokyo")  # the phone app saw a new zone
    assert tick(MONDAY_0800_LONDON) == []  # 17:00 in Tokyo: not her time any more
    due = ReminderSettings.objects.get(user=user).next_at
    assert due == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)  # 08:00 Tuesday in Tokyo
    assert tick(due) == ["sent"]
    assert [p["night"] for p in push_service.received(phone)] == ["2026-11-02"]


def test_a_move_east_saved_before_the_new_mornings_time_gets_that_morning(push_service):
    # Reminders at one local time in Los Angeles; the phone's new zone, Tokyo, is saved (PATCH /api/v1/me/) an
    # hour before that time comes round there: it comes then, not a day later after the old zone's instant.
    now = timezone.now()
    tokyo = ZoneInfo("Asia/Tokyo")
    at = (now + timedelta(hours=1)).astimezone(tokyo).replace(second=0, microsecond=0)
    user = person(zone="America/Los_Angeles", at=at.time(), start=now, quiet_start=time(0), quiet_end=time(0))
    phone = device(user, push_service)
    api = APIClient()
    api.force_authenticate(user)
    assert api.patch("/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json").status_code == 200
    assert ReminderSettings.objects.get(user=user).next_at == at
    assert tick(at) == ["sent"]
    assert [p["night"] for p in push_service.received(phone)] == [(at.date() - timedelta(days=1)).isoformat()]


def test_no_reminder_for_a_night_already_answered(push_service):
    user = person()
    device(user, push_service)
    night = date(2026, 11, 1)
    answer(user, night)  # "no cramps" before 08:00
    assert tick(MONDAY_0800_LONDON) == ["skipped"]
    Episode.objects.create(user=user, started_at=datetime(2026, 11, 3, 3, 0, tzinfo=UTC), muscle="calf", side="left")
    assert tick(MONDAY_0800_LONDON + timedelta(days=1)) == ["skipped"]  # a cramp logged that night
    CheckIn.objects.create(user=user, date=date(2026, 11, 3), steps=4000)  # the day's context is not an answer
    assert tick(MONDAY_0800_LONDON + timedelta(days=2)) == ["sent"]
    assert skipped_because(user) == ["answered", "answered"]
    assert len(push_service.messages) == 1


def test_after_five_ignored_reminders_one_a_week_until_a_night_is_answered(push_service):
    user = person()
    alice_api = APIClient()
    alice_api.force_authenticate(user)
    device(user, push_service)
    day = MONDAY_0800_LONDON

    def on(days):
        return tick(day + timedelta(days=days))

    assert [on(d) for d in range(5)] == [["sent"]] * 5
    assert alice_api.get("/api/v1/reminders/").json()["backed_off"] is True
    assert [on(d) for d in range(5, 11)] == [["skipped"]] * 6
    assert set(skipped_because(user)) == {"backed off"}
    assert on(11) == ["sent"]  # a week after the last one
    body = alice_api.get("/api/v1/reminders/").json()
    assert (body["backed_off"], body["ignored_in_row"]) == (True, 6)

    answer(user, date(2026, 11, 12))  # any night answered ends the back-off
    body = alice_api.get("/api/v1/reminders/").json()
    assert (body["backed_off"], body["ignored_in_row"]) == (False, 0)
    assert on(12) == ["sent"]
    assert len(push_service.messages) == 7


def test_a_second_nudge_only_when_asked_for_and_only_if_still_unanswered(push_service):
    asked = person(second_nudge_hours=2)
    not_asked = person("bob@example.org")
    asked_phone, other_phone = device(asked, push_service), device(not_asked, push_service)
    for hours in range(0, 14):  # every hour of the day: 08:00 to 21:00
        tick(MONDAY_0800_LONDON + timedelta(hours=hours))
    assert [p["night"] for p in push_service.received(asked_phone)] == ["2026-11-01", "2026-11-01"]
    assert len(push_service.received(other_phone)) == 1  # never more than one a day by default

    tomorrow = MONDAY_0800_LONDON + timedelta(days=1)
    assert tick(tomorrow) == ["sent", "sent"]
    answer(asked, date(2026, 11, 2))  # answered between the two
    assert tick(tomorrow + timedelta(hours=2)) == ["skipped"]
    assert len(push_service.received(asked_phone)) == 3


def test_quiet_hours_and_lateness_skip_rather_than_send_late(push_service):
    morning = person("morgan@example.org")
    evening = person("eve@example.org", at=time(21, 0), quiet_start=time(22, 0), quiet_end=time(7, 0))
    nudged = person("nora@example.org", at=time(20, 0), second_nudge_hours=3)  # 23:00 is quiet
    morning_phone, evening_phone, nudged_phone = (device(u, push_service) for u in (morning, evening, nudged))
    morning_phone.answer = evening_phone.answer = 500  # their push service is down

    def at(hour, minute=0):
        return tick(MONDAY_0800_LONDON.replace(hour=hour, minute=minute))

    assert at(8) == ["failed"]
    morning_phone.answer = 201  # back, but more than two hours after 08:00
    assert at(10, 1) == ["skipped"]
    assert at(20) == ["sent"]
    assert at(21) == ["failed"]
    evening_phone.answer = 201  # back after 22:00
    assert at(22, 3) == ["skipped"]
    assert at(23) == ["skipped"]  # the later nudge would land in quiet hours
    assert skipped_because(morning) == ["too late"]
    assert skipped_because(evening) == ["quiet hours"]
    assert skipped_because(nudged) == ["quiet hours"]
    assert [m.subscription for m in push_service.messages] == [nudged_phone.id]


def test_a_push_is_never_held_for_a_phone_past_the_late_limit_or_into_quiet_hours(push_service):
    morning = person("morgan@example.org")  # 08:00, may arrive until 10:00
    evening = person("eve@example.org", at=time(21, 0), quiet_start=time(22, 0), quiet_end=time(7, 0))
    morning_phone, evening_phone = device(morning, push_service), device(evening, push_service)
    morning_phone.answer = 500
    assert tick(MONDAY_0800_LONDON) == ["failed"]
    morning_phone.answer = 201
    assert tick(MONDAY_0800_LONDON.replace(hour=9, minute=30)) == ["sent"]  # the retry: 30 minutes left
    assert tick(MONDAY_0800_LONDON.replace(hour=21)) == ["sent"]  # an hour before quiet hours
    ttls = {m.subscription: int(m.headers["ttl"]) for m in push_service.messages}
    assert ttls == {morning_phone.id: 30 * 60, evening_phone.id: 60 * 60}


def test_a_gone_subscription_is_removed_and_the_other_device_still_gets_it(push_service):
    user = person()
    phone, old_tablet = device(user, push_service), device(user, push_service)
    old_tablet.answer = 410
    assert tick(MONDAY_0800_LONDON) == ["sent"]
    assert len(push_service.received(phone)) == 1
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [phone.endpoint]
    phone.answer = 404
    assert tick(MONDAY_0800_LONDON + timedelta(days=1)) == ["skipped"]  # no device left, no email chosen
    assert not PushSubscription.objects.exists()
    assert skipped_because(user) == ["no device or email"]


def test_without_a_device_the_email_and_its_no_cramps_link_stored_once(smtp_server, push_keys):
    user = person(email_fallback=True)
    person("unverified@example.org", email_fallback=True)
    EmailAddress.objects.filter(email="unverified@example.org").update(verified=False)
    person("no-email@example.org")
    assert sorted(tick(MONDAY_0800_LONDON)) == ["sent", "skipped", "skipped"]

    [message] = smtp_server.messages
    assert message["To"] == "alice@example.org"
    assert str(message["Subject"]) == "Any cramps last night?"
    text = message.get_content()
    assert "Sunday 1 November" in text and "http://localhost:8000/episode/" in text
    path = email_link(smtp_server)
    browser = Client(enforce_csrf_checks=False)
    page = browser.get(path)
    assert page.status_code == 200 and b"No cramps last night" in page.content
    assert not CheckIn.objects.exists()  # a link scanner's GET records nothing
    for _ in range(2):  # a double click, a second device
        done = browser.post(path)
        assert b"Recorded: no cramps that night" in done.content
    [checkin] = CheckIn.objects.all()
    assert (checkin.user, checkin.date, checkin.no_cramps) == (user, date(2026, 11, 1), True)
    assert checkin.uuid == checkin_uuid(user.pk, date(2026, 11, 1))
    assert browser.get(path[:-3] + "x/").status_code == 400  # tampered
    assert tick(MONDAY_0800_LONDON + timedelta(minutes=5)) == []


def email_link(smtp_server) -> str:
    """The "No cramps" link's path in the one reminder email sent."""
    [message] = smtp_server.messages
    link = re.search(r"http://localhost:8000(/email/no-cramps/\S+/)", message.get_content())
    assert link is not None
    return link[1]


def test_one_click_in_the_mail_client_stops_the_reminder_email(smtp_server, push_keys):
    user, other = person(email_fallback=True), person("bob@example.org", email_fallback=True)
    assert tick(MONDAY_0800_LONDON) == ["sent", "sent"]
    message = next(m for m in smtp_server.messages if m["To"] == user.email)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message["List-Unsubscribe"].strip()  # folded onto a line of its own
    url, path = re.fullmatch(r"<(http://localhost:8000(/email/reminder-off/\S+/))>", header).groups()
    assert url in message.get_content()  # the email says how to stop it

    mail_client = Client(enforce_csrf_checks=True)  # no session, no CSRF token: RFC 8058's POST
    page = mail_client.get(path)
    assert page.status_code == 200 and b"Stop the reminder email?" in page.content
    assert ReminderSettings.objects.get(user=user).email_fallback is True  # a link scanner's GET changes nothing
    done = mail_client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and b"The reminder email is off" in done.content
    mine, bobs = ReminderSettings.objects.get(user=user), ReminderSettings.objects.get(user=other)
    assert (mine.enabled, mine.email_fallback, bobs.email_fallback) == (True, False, True)

    assert sorted(tick(MONDAY_0800_LONDON + timedelta(days=1))) == ["sent", "skipped"]
    assert skipped_because(user) == ["no device or email"]
    assert [m["To"] for m in smtp_server.messages[2:]] == [other.email]
    assert mail_client.post(path[:-3] + "x/").status_code == 400  # tampered
    weekly = reverse("email-reminder-off", args=[email_token(other.pk)])  # the weekly email's token
    assert mail_client.post(weekly).status_code == 400
    assert ReminderSettings.objects.get(user=other).email_fallback is True


@pytest.mark.parametrize("app_first", [True, False], ids=["app-then-email", "email-then-app"])
def test_the_email_link_and_the_apps_answer_for_one_night_make_one_row(smtp_server, push_keys, app_first):
    user = person(email_fallback=True)
    assert tick(MONDAY_0800_LONDON) == ["sent"]
    path = email_link(smtp_server)
    app = APIClient()
    app.force_authenticate(user)

    def from_the_app():
        # What the outbox sends for the log page's one-tap answer and the notification's "No cramps".
        body = {"records": [{"type": "checkin", "data": {"no_cramps": True, "date": "2026-11-01"}}]}
        [result] = app.post("/api/v1/sync/", body, format="json").json()["results"]
        assert result["status"] in ("created", "updated", "unchanged"), result

    def from_the_email():
        assert b"Recorded: no cramps that night" in Client().post(path).content

    for answer_it in (from_the_app, from_the_email) if app_first else (from_the_email, from_the_app):
        answer_it()
    [checkin] = CheckIn.objects.filter(user=user)
    assert (checkin.date, checkin.no_cramps) == (date(2026, 11, 1), True)
    assert app.get("/api/v1/checkins/2026-11-01/").json()["no_cramps"] is True


def test_an_email_page_opened_earlier_does_not_overwrite_i_had_cramps(smtp_server, push_keys):
    user = person(email_fallback=True)
    assert tick(MONDAY_0800_LONDON) == ["sent"]
    path = email_link(smtp_server)
    browser = Client()
    assert b"No cramps last night" in browser.get(path).content  # the page is open on the phone...
    app = APIClient()
    app.force_authenticate(user)
    # ...while the person answers "I had cramps" in the app, then taps the stale page's button.
    assert app.post("/api/v1/checkins/", {"date": "2026-11-01", "no_cramps": False}, format="json").status_code == 201
    done = browser.post(path)
    assert b"You answered that you had cramps that night" in done.content
    [checkin] = CheckIn.objects.filter(user=user)
    assert checkin.no_cramps is False


def test_two_beats_and_a_retried_task_send_once(push_service):
    user = person()
    phone = device(user, push_service)
    first, second = list(reminders.plan_all(MONDAY_0800_LONDON)), list(reminders.plan_all(MONDAY_0800_LONDON))
    assert first == second  # the same row: the unique (person, night, nudge) guard
    [ids] = first
    outcomes = [reminders.send(i, now=MONDAY_0800_LONDON) for i in ids + ids + ids]
    assert outcomes.count("sent") == 1
    assert list(tasks.send_reminders(ids).values()) == ["not_claimed"]  # a redelivered task
    assert len(push_service.received(phone)) == 1
    assert ReminderDelivery.objects.get().status == "sent"


def test_a_worker_killed_mid_send_is_taken_over_after_the_lease(push_service, settings):
    settings.REMINDER_CLAIM_SECONDS = 120
    user = person()
    phone = device(user, push_service)
    [[delivery_id]] = reminders.plan_all(MONDAY_0800_LONDON)
    assert reminders.claim(delivery_id, MONDAY_0800_LONDON, 0)  # ...and then the worker was killed
    assert tick(MONDAY_0800_LONDON + timedelta(seconds=119)) == []
    assert tick(MONDAY_0800_LONDON + timedelta(seconds=121)) == ["sent"]
    assert tick(MONDAY_0800_LONDON + timedelta(minutes=10)) == []
    assert len(push_service.received(phone)) == 1


def test_a_failure_retries_with_backoff_and_a_duplicate_task_waits_it_out(push_service):
    user = person()
    phone = device(user, push_service)
    phone.answer = 503
    [ids] = reminders.plan_all(MONDAY_0800_LONDON)
    assert list(reminders.send_batch(ids, now=MONDAY_0800_LONDON).values()) == ["failed"]
    assert list(reminders.send_batch(ids, now=MONDAY_0800_LONDON + timedelta(seconds=30)).values()) == ["not_claimed"]
    phone.answer = 201
    assert tick(MONDAY_0800_LONDON + timedelta(minutes=1)) == ["sent"]
    assert len(push_service.received(phone)) == 1
    assert ReminderDelivery.objects.get().attempts == 2


@pytest.mark.django_db(transaction=True)  # the worker thread has a connection of its own
def test_the_beat_tick_sends_through_a_celery_worker_on_redis(push_service):
    due = (timezone.now() - timedelta(minutes=1)).replace(second=0, microsecond=0)
    user = person(at=due.astimezone(ZoneInfo("Europe/London")).time(), quiet_start=time(0), quiet_end=time(0))
    phone = device(user, push_service)
    ReminderSettings.objects.filter(user=user).update(next_at=due)  # due a minute ago
    assert tasks.plan_reminders() == 1
    assert tasks.plan_reminders() == 1  # a second beat queues the waiting row again: it is claimed once
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        deadline = clock.monotonic() + 30
        while not push_service.messages and clock.monotonic() < deadline:
            clock.sleep(0.2)
    assert len(push_service.received(phone)) == 1
    assert ReminderDelivery.objects.get().status == "sent"
