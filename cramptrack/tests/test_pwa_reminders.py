"""Reminders in a real browser (Debian's Chromium): a push message delivered to the app's
own service worker through the DevTools protocol shows the morning question, and its
"No cramps" action files the cramp-free night on the server exactly once, online or not.

No browser API can tap an OS notification: the tests call, inside the service worker, the
function its notificationclick listener calls, with the real Notification object."""

import json
import time
from datetime import timedelta

import pytest

from conftest import make_user
from cramptrack.tests.test_pwa_browser import eventually, local_now, settle, wait_for_worker, wait_pending
from diary.models import CheckIn

pytestmark = pytest.mark.browser


def last_night() -> str:
    return (local_now().date() - timedelta(days=1)).isoformat()


def checkin_payload(night: str) -> dict:
    """What the server pushes for a morning reminder (the contract in notifications/)."""
    return {
        "type": "checkin",
        "night": night,
        "title": "Any cramps last night?",
        "body": "One tap answers it.",
        "tag": f"checkin-{night}",
        "url": "/checkin/?morning",
    }


def app_with_worker(new_context, live, user):
    context = new_context(user=user, service_workers="allow")
    context.grant_permissions(["notifications"], origin=live.url)
    page = context.new_page()
    page.goto("/")
    settle(page)
    wait_for_worker(page)
    return context, page


def deliver_push(context, page, live, payload: dict) -> None:
    """ServiceWorker.deliverPushMessage to the registration the page runs under."""
    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    [registration] = eventually(
        page, lambda: [r for r in registrations if r["scopeURL"] == live.url + "/" and not r["isDeleted"]]
    )
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live.url, "registrationId": registration["registrationId"], "data": json.dumps(payload)},
    )


def shown(page, tag: str) -> list[dict]:
    return page.evaluate(
        """(tag) => navigator.serviceWorker.ready
             .then((r) => r.getNotifications({ tag }))
             .then((list) => list.map((n) =>
               ({ title: n.title, body: n.body, actions: n.actions.map((a) => a.title), data: n.data })))""",
        tag,
    )


def tap(context, tag: str, action: str, times: int = 1) -> list[str]:
    """The notification's action, `times` times at once (a double tap), as the listener runs it."""
    [worker] = context.service_workers
    return worker.evaluate(
        """async ([tag, action, times]) => {
             const [notification] = await self.registration.getNotifications({ tag });
             if (!notification) throw new Error(`no notification ${tag}`);
             return Promise.all(Array.from({ length: times }, () => self.cramptrack.answer(notification, action)));
           }""",
        [tag, action, times],
    )


def night_rows(user, night: str) -> list[CheckIn]:
    return list(CheckIn.objects.filter(user=user, date=night))


def test_a_pushed_reminder_asks_about_last_night_with_two_actions(new_context, live):
    alice = make_user("alice@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    deliver_push(context, page, live, checkin_payload(night))
    [notification] = eventually(page, lambda: shown(page, f"checkin-{night}"))
    assert notification["title"] == "Any cramps last night?"
    assert notification["body"] == "One tap answers it."
    assert notification["actions"] == ["No cramps", "I had cramps"]
    assert notification["data"]["night"] == night

    test_payload = {"type": "test", "title": "Reminders work", "body": "", "tag": "test", "url": "/settings/"}
    deliver_push(context, page, live, test_payload)
    [test] = eventually(page, lambda: shown(page, "test"))
    assert (test["title"], test["actions"]) == ("Reminders work", [])


def test_no_cramps_from_the_notification_stores_the_night_once_even_tapped_twice(new_context, live):
    alice = make_user("alice@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    deliver_push(context, page, live, checkin_payload(night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))

    assert set(tap(context, f"checkin-{night}", "no-cramps", times=2)) <= {"sent", "queued"}
    [row] = eventually(page, lambda: night_rows(alice, night))
    assert row.no_cramps is True
    assert shown(page, f"checkin-{night}") == []  # answered: the notification is gone

    # The same reminder again (a second device, a retried push) and the app's own answer: still one row.
    deliver_push(context, page, live, checkin_payload(night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))
    assert tap(context, f"checkin-{night}", "no-cramps") == ["sent"]
    wait_pending(page, 0)
    assert [r.no_cramps for r in night_rows(alice, night)] == [True]
    page.goto("/")
    settle(page)
    page.wait_for_selector("#morning-done:not([hidden])")
    assert "no cramps" in page.inner_text("#morning-done-text").lower()


def test_no_cramps_tapped_offline_waits_on_the_phone_then_arrives_once(new_context, live):
    alice = make_user("alice@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    deliver_push(context, page, live, checkin_payload(night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))

    context.set_offline(True)
    assert tap(context, f"checkin-{night}", "no-cramps") == ["queued"]
    wait_pending(page, 1)  # the app's sync chip sees the worker's entry
    time.sleep(1)
    assert night_rows(alice, night) == []

    context.set_offline(False)
    page.goto("/")  # opening the app sends what the worker left in the outbox
    settle(page)
    [row] = eventually(page, lambda: night_rows(alice, night))
    assert row.no_cramps is True
    wait_pending(page, 0)
    assert len(night_rows(alice, night)) == 1


def test_no_cramps_for_a_night_with_a_cramp_logged_says_it_was_not_recorded(new_context, live):
    from datetime import UTC, datetime

    from diary.models import Episode

    alice = make_user("alice@example.org")
    night = last_night()
    morning = local_now().date()
    Episode.objects.create(
        user=alice,
        started_at=datetime(morning.year, morning.month, morning.day, 2, 0, tzinfo=UTC),
        muscle="calf",
        side="left",
    )
    context, page = app_with_worker(new_context, live, alice)
    deliver_push(context, page, live, checkin_payload(night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))

    assert tap(context, f"checkin-{night}", "no-cramps") == ["refused"]
    [notice] = shown(page, f"checkin-{night}")
    assert notice["title"] == "Not recorded as cramp-free"
    assert "You logged 1 cramp(s) that night" in notice["body"]
    assert not CheckIn.objects.filter(user=alice, date=night, no_cramps=True).exists()


def test_i_had_cramps_leads_to_the_log_for_that_night_and_a_plain_tap_to_its_check_in(new_context, live):
    # Opening a window needs a real tap on the notification, which no test can make:
    # the worker says which page the tap opens, and that page is the one for the night asked about.
    alice = make_user("alice@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    [worker] = context.service_workers
    page_for = "([payload, action]) => self.cramptrack.pageFor(payload, action)"
    for_cramps = worker.evaluate(page_for, [checkin_payload(night), "cramps"])
    for_tap = worker.evaluate(page_for, [checkin_payload(night), ""])
    assert worker.evaluate(page_for, [{"type": "test", "url": "/settings/"}, ""]) == "/settings/"
    assert worker.evaluate(page_for, [{"type": "test", "url": "https://elsewhere.example/"}, ""]) == "/"

    page.goto(for_cramps)
    settle(page)
    assert page.input_value("[name=started_at]") == f"{local_now().date().isoformat()}T03:00"  # the night asked about
    page.goto(for_tap)
    settle(page)
    assert page.inner_text("#night-question") == "Any cramps last night?"
    assert night_rows(alice, night) == []
