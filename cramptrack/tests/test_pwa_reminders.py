"""Reminders in a real browser (Debian's Chromium): a push message delivered to the app's
own service worker through the DevTools protocol shows the morning question, and its
"No cramps" action files the cramp-free night on the server exactly once, online or not.

No browser API can tap an OS notification: the tests call, inside the service worker, the
function its notificationclick listener calls, with the real Notification object."""

import json
import time
from datetime import date, timedelta

import pytest

from conftest import make_user
from cramptrack.tests.conftest import screenshot
from cramptrack.tests.test_pwa_browser import eventually, local_now, settle, wait_for_worker, wait_pending
from diary.models import CheckIn

pytestmark = pytest.mark.browser


def last_night() -> str:
    return (local_now().date() - timedelta(days=1)).isoformat()


def checkin_payload(user, night: str) -> dict:
    """What the server pushes for a morning reminder."""
    from notifications.models import ReminderDelivery
    from notifications.reminders import payload

    return payload(ReminderDelivery(user=user, night=date.fromisoformat(night)))


def app_with_worker(new_context, live, user, path: str = "/"):
    context = new_context(user=user, service_workers="allow")
    context.grant_permissions(["notifications"], origin=live.url)
    page = context.new_page()
    page.goto(path)
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
    deliver_push(context, page, live, checkin_payload(alice, night))
    [notification] = eventually(page, lambda: shown(page, f"checkin-{night}"))
    assert notification["title"] == "Any cramps last night?"
    assert notification["body"].startswith("One tap answers it")
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
    deliver_push(context, page, live, checkin_payload(alice, night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))

    assert set(tap(context, f"checkin-{night}", "no-cramps", times=2)) <= {"sent", "queued"}
    [row] = eventually(page, lambda: night_rows(alice, night))
    assert row.no_cramps is True
    assert shown(page, f"checkin-{night}") == []  # answered: the notification is gone

    # The same reminder again (a second device, a retried push) and the app's own answer: still one row.
    deliver_push(context, page, live, checkin_payload(alice, night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))
    assert tap(context, f"checkin-{night}", "no-cramps") == ["sent"]
    wait_pending(page, 0)
    assert [r.no_cramps for r in night_rows(alice, night)] == [True]
    now = local_now()
    if now.hour < 4:
        # Between midnight and 4 a.m. the home screen says nothing of last night (it is still going on):
        # look at it at 8 a.m., the morning after the night asked about.
        page.clock.install(time=now.replace(hour=8, minute=0))
    page.goto("/")
    settle(page)
    page.wait_for_selector("#morning-done:not([hidden])")
    assert "no cramps" in page.inner_text("#morning-done-text").lower()


def test_no_cramps_tapped_offline_waits_on_the_phone_then_arrives_once(new_context, live):
    alice = make_user("alice@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    deliver_push(context, page, live, checkin_payload(alice, night))
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
    deliver_push(context, page, live, checkin_payload(alice, night))
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
    for_cramps = worker.evaluate(page_for, [checkin_payload(alice, night), "cramps"])
    for_tap = worker.evaluate(page_for, [checkin_payload(alice, night), ""])
    assert worker.evaluate(page_for, [{"type": "test", "url": "/settings/"}, ""]) == "/settings/"
    assert worker.evaluate(page_for, [{"type": "test", "url": "https://elsewhere.example/"}, ""]) == "/"

    page.goto(for_cramps)
    settle(page)
    assert page.input_value("[name=started_at]") == f"{local_now().date().isoformat()}T03:00"  # the night asked about
    page.goto(for_tap)
    settle(page)
    assert page.inner_text("#night-question") == "Any cramps last night?"
    assert night_rows(alice, night) == []


def test_a_reminder_for_another_account_is_not_answered_into_this_diary(new_context, live):
    # Bob's phone, now Alice's: a reminder still addressed to Bob must not file his night in her diary.
    alice, bob = make_user("alice@example.org"), make_user("bob@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    deliver_push(context, page, live, checkin_payload(bob, night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))
    assert tap(context, f"checkin-{night}", "no-cramps") == ["not-yours"]
    wait_pending(page, 0)
    assert CheckIn.objects.filter(date=night).count() == 0
    assert shown(page, f"checkin-{night}") == []


def test_a_night_answered_in_the_app_closes_its_reminder(new_context, live):
    alice = make_user("alice@example.org")
    context, page = app_with_worker(new_context, live, alice)
    night = last_night()
    now = local_now()
    if now.hour < 4:  # the home screen asks about last night from 4 a.m.
        page.clock.install(time=now.replace(hour=8, minute=0))
        page.goto("/")
        settle(page)
    deliver_push(context, page, live, checkin_payload(alice, night))
    eventually(page, lambda: shown(page, f"checkin-{night}"))
    page.click("#morning-none")
    eventually(page, lambda: shown(page, f"checkin-{night}") == [])
    [row] = eventually(page, lambda: night_rows(alice, night))
    assert row.no_cramps is True


def test_logging_out_takes_this_phone_off_the_accounts_reminders(new_context, live):
    alice, bob = make_user("alice@example.org"), make_user("bob@example.org")
    context, page = app_with_worker(new_context, live, alice)
    here = device(alice, "https://push.example.net/send/this-phone", "This phone")
    elsewhere = device(alice, "https://push.example.net/send/her-laptop", "Laptop")
    bobs = device(bob, "https://push.example.net/send/bobs-phone", "Bob's phone")
    page.evaluate(
        """(id) => new Promise((resolve, reject) => {
             const open = indexedDB.open("cramptrack");
             open.onerror = () => reject(open.error);
             open.onsuccess = () => {
               const tx = open.result.transaction("cache", "readwrite");
               tx.objectStore("cache").put(id, "push-device");
               tx.oncomplete = () => resolve();
               tx.onerror = () => reject(tx.error);
             };
           })""",
        here.id,
    )
    page.goto("/accounts/logout/")
    settle(page)
    page.get_by_text("Morning reminders stop on this phone when you log out.").wait_for()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")
    remaining = set(type(here).objects.values_list("pk", flat=True))
    assert remaining == {elsewhere.pk, bobs.pk}  # only this phone, and only hers


# --- You > Morning reminder, against the server's API ----------------------------------------------


def device(user, endpoint: str, label: str):
    """A push subscription with real P-256 keys, as a browser would have registered it."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from notifications.models import PushSubscription

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return PushSubscription.objects.create(
        user=user, endpoint=endpoint, p256dh=b64(point), auth=b64(b"s" * 16), label=label
    )


def reminder_settings(user):
    from notifications.models import ReminderSettings

    return ReminderSettings.objects.filter(user=user).first()


def test_you_says_when_push_cant_be_reached_and_offers_the_email_instead(new_context, live):
    from allauth.account.models import EmailAddress

    alice = make_user("alice@example.org")
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    context, page = app_with_worker(new_context, live, alice, "/settings/")
    card = page.locator("#reminders")
    assert card.locator("#push-status").text_content() == "Off."

    # Headless Chromium has no push service: pushManager.subscribe() rejects, and the page says so.
    card.get_by_role("button", name="Turn on for this phone").click()
    problem = card.locator("#push-problem")
    problem.wait_for()
    assert "couldn't sign this phone up with its push service" in problem.text_content()
    assert reminder_settings(alice) is None or not reminder_settings(alice).enabled
    problem.scroll_into_view_if_needed()
    screenshot(page, "you-reminders-no-push-service")

    card.get_by_role("button", name="Email me the reminder instead").click()
    card.locator("#push-status", has_text="On, by email").wait_for()
    saved = reminder_settings(alice)
    assert (saved.enabled, saved.email_fallback) == (True, True)
    assert problem.is_hidden()


def test_notifications_blocked_in_the_browser_are_named_as_such(new_context, live):
    alice = make_user("alice@example.org")
    page = new_context(user=alice, service_workers="allow").new_page()  # never granted: headless denies
    page.goto("/settings/")
    settle(page)
    page.get_by_role("button", name="Turn on for this phone").click()
    page.locator("#push-problem", has_text="Notifications are blocked").wait_for()
    assert page.get_by_role("button", name="Email me the reminder instead").is_visible()


def test_you_saves_the_time_refuses_one_in_quiet_hours_and_manages_the_devices(new_context, live):
    alice = make_user("alice@example.org")
    bob = make_user("bob@example.org")
    # The push service answers 404 for this one (the live server itself): the test push removes it.
    device(alice, f"{live.url}/push-service/gone", "Firefox on Android")
    kept = device(alice, "https://push.example.net/alice-laptop", "Chrome on Linux")
    device(bob, "https://push.example.net/bob", "Bob's phone")
    page = new_context(user=alice).new_page()
    page.goto("/settings/")
    settle(page)
    card = page.locator("#reminders")
    devices = card.locator("#device-list")
    devices.get_by_text("Firefox on Android").wait_for()
    assert "Chrome on Linux" in devices.text_content() and "Bob's phone" not in devices.text_content()
    assert card.locator("#push-status").text_content() == "Off."

    form = card.locator("#reminder-form")
    form.get_by_label("Send me the morning reminder").check()
    form.get_by_label("Time").fill("23:30")
    form.get_by_role("button", name="Save reminder settings").click()
    error = form.locator("[data-error-for=time]")
    error.wait_for()
    assert "inside your quiet hours" in error.text_content()
    assert reminder_settings(alice) is None or not reminder_settings(alice).enabled  # nothing half-saved

    form.get_by_label("Time").fill("07:30")
    form.get_by_label("Second nudge").select_option("2")
    form.get_by_role("button", name="Save reminder settings").click()
    form.locator("[data-saved]", has_text="Saved.").wait_for()
    assert error.is_hidden()
    saved = reminder_settings(alice)
    assert (saved.enabled, saved.time.strftime("%H:%M"), saved.second_nudge_hours) == (True, "07:30", 2)
    page.reload()
    settle(page)
    assert form.get_by_label("Time").input_value() == "07:30"
    assert form.get_by_label("Second nudge").input_value() == "2"
    devices.scroll_into_view_if_needed()
    screenshot(page, "you-reminders-devices")

    card.get_by_role("button", name="Send a test notification").click()
    page.locator("#toast", has_text="1 device the push service no longer knows was removed").wait_for()
    devices.get_by_text("Firefox on Android").wait_for(state="detached")
    devices.get_by_role("button", name="Remove Chrome on Linux").click()
    card.locator("#devices-none").wait_for()
    assert not alice.push_subscriptions.exists() and bob.push_subscriptions.count() == 1
    assert not type(kept).objects.filter(pk=kept.pk).exists()


def test_after_ignored_reminders_you_says_they_back_off_and_answering_a_night_brings_them_back(new_context, live):
    from django.utils import timezone

    from notifications.models import ReminderDelivery

    alice = make_user("alice@example.org")
    now = timezone.now()
    for days in range(1, 6):
        ReminderDelivery.objects.create(
            user=alice,
            night=(now - timedelta(days=days + 1)).date(),
            due_at=now - timedelta(days=days),
            next_attempt_at=now - timedelta(days=days),
            sent_at=now - timedelta(days=days),
            status=ReminderDelivery.Status.SENT,
            channel=ReminderDelivery.Channel.PUSH,
        )
    page = new_context(user=alice).new_page()
    page.goto("/settings/")
    settle(page)
    notice = page.locator("#reminders-backed-off")
    notice.wait_for()
    assert "the last 5 reminders went unanswered" in " ".join(notice.text_content().split())
    notice.scroll_into_view_if_needed()
    screenshot(page, "you-reminders-backed-off")

    notice.get_by_role("link", name="Answer last night").click()
    page.wait_for_url("**/checkin/?morning")
    settle(page)
    page.locator("[data-field=no_cramps] label", has_text="None").click()
    eventually(page, lambda: night_rows(alice, last_night()))
    page.goto("/settings/")
    settle(page)
    assert notice.is_hidden()
