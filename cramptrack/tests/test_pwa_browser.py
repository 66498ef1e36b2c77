"""The phone app in a real browser: Debian's Chromium, headless, driven by Playwright,
against a real gunicorn server (which one test kills with SIGKILL mid-sync).

Screenshots of the main screens land in test-artifacts/screenshots/.
"""

import json
import struct
import time
import urllib.request
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import make_user
from cramptrack.tests.conftest import ARTIFACTS, ROOT, ZONE, screenshot
from diary.models import CheckIn, Episode

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def local_now() -> datetime:
    return datetime.now(ZoneInfo(ZONE))


def chip(page) -> dict:
    return page.eval_on_selector("#sync-status", "el => ({...el.dataset, label: el.textContent.trim()})")


# Waits use selectors: wait_for_function evaluates strings, which the CSP forbids.
def wait_pending(page, count: int) -> None:
    page.wait_for_selector(f"#sync-status[data-pending='{count}']", state="attached")


def wait_attention(page, count: int) -> None:
    page.wait_for_selector(f"#sync-status[data-attention='{count}']", state="attached")


def eventually(page, check, timeout: float = 15):
    """Poll the server's database until `check()` is truthy (the sync is asynchronous)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out waiting for the server to have it"
        page.wait_for_timeout(100)  # keeps Playwright's event loop turning
    return result


def quick_log(page, muscle: str = "calf", side: str = "left") -> int:
    """The three taps from the home screen; returns how many it took."""
    taps = 0
    for selector in ("#cramp-now", f'[data-muscle="{muscle}"]', f'[data-side="{side}"]'):
        page.click(selector)
        taps += 1
    page.wait_for_selector("#step-done:not([hidden])")
    return taps


def wait_for_worker(page) -> str:
    script = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)")
    page.evaluate(
        """() => navigator.serviceWorker.controller || new Promise((resolve) =>
             navigator.serviceWorker.addEventListener("controllerchange", resolve))"""
    )
    return script


def episodes_of(user) -> list[Episode]:
    return list(Episode.objects.filter(user=user).order_by("started_at"))


# --- The flows ---------------------------------------------------------------------------


def test_sign_up_then_quick_log_in_three_taps_then_see_it_in_the_diary(new_context, live):
    from accounts.models import User

    page = new_context().new_page()
    page.goto("/accounts/signup/")
    screenshot(page, "signup")
    page.fill("#id_email", "dora@example.org")
    page.fill("#id_password1", "cramps at three in the morning")
    page.click("button[type=submit]")
    page.wait_for_url("**/welcome/")
    page.wait_for_selector("#zone-text:has-text('London')")
    dora = User.objects.get(email="dora@example.org")
    # Detected by the browser, sent by the outbox.
    eventually(page, lambda: User.objects.get(pk=dora.pk).profile.timezone == ZONE)
    wait_pending(page, 0)
    screenshot(page, "welcome")

    page.click("#welcome-start")
    page.wait_for_url(live.url + "/")
    assert quick_log(page, "calf", "left") == 3
    [episode] = eventually(page, lambda: episodes_of(dora))
    wait_pending(page, 0)
    assert (episode.muscle, episode.side, episode.time_approximate) == ("calf", "left", False)
    assert abs(episode.started_at - datetime.now(ZoneInfo("UTC"))) < timedelta(minutes=2)

    page.click(".tabbar a[href='/diary/']")
    page.goto(f"/diary/?night={episode.night.isoformat()}")  # the night may be in last month
    page.wait_for_selector("#episode-list li")
    assert "Left calf" in page.inner_text("#episode-list")
    day = page.locator(".day[aria-pressed='true']")
    assert "day-cramp" in day.get_attribute("class")
    assert ": 1 cramp" in day.text_content()
    screenshot(page, "diary-after-first-cramp")


def test_a_cramp_logged_abroad_is_filed_in_the_phones_zone(new_context, live):
    from diary.localtime import night_of

    alice = make_user("alice@example.org")  # her profile says London; the phone is in Los Angeles
    page = new_context(user=alice, timezone_id="America/Los_Angeles").new_page()
    page.goto("/")
    quick_log(page, "foot", "right")
    [episode] = eventually(page, lambda: episodes_of(alice))
    assert episode.timezone == "America/Los_Angeles"
    assert episode.night == night_of(episode.started_at, ZoneInfo("America/Los_Angeles"))


def test_signing_up_from_the_first_screen_takes_the_phones_zone_and_files_a_5_30_cramp_on_its_night(new_context, live):
    from accounts.models import User
    from diary.models import Profile

    los_angeles = ZoneInfo("America/Los_Angeles")
    page = new_context(timezone_id="America/Los_Angeles").new_page()
    page.goto("/")  # the first screen is the log-in page; its sign-up link carries next=/
    link = page.get_by_role("link", name="Create a free account")
    assert "next=" in link.get_attribute("href")
    link.click()
    page.fill("#id_email", "erin@example.org")
    page.fill("#id_password1", "cramps at three in the morning")
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")  # straight into the app: the welcome page never runs
    erin = User.objects.get(email="erin@example.org")
    profile = eventually(page, lambda: Profile.objects.filter(user=erin, timezone="America/Los_Angeles").first())
    assert profile.timezone_confirmed
    sends = profile.digest_next_at.astimezone(los_angeles)  # the weekly email at 18:00 on Monday, her time
    assert (sends.weekday(), sends.hour) == (0, 18)
    wait_pending(page, 0)

    now = datetime.now(los_angeles)
    at = now.replace(hour=5, minute=30, second=0, microsecond=0)
    if at > now:
        at -= timedelta(days=1)
    page.click("#cramp-earlier")
    page.click("#when-other")  # a minute the hour chips don't have: the picker
    page.fill("#custom-at", f"{at:%Y-%m-%dT%H:%M}")
    page.click('[data-muscle="calf"]')
    page.click('[data-side="left"]')
    page.wait_for_selector("#step-done:not([hidden])")
    [episode] = eventually(page, lambda: episodes_of(erin))
    assert episode.started_at == at
    assert episode.night == at.date() - timedelta(days=1)  # 5:30 a.m. belongs to the night before

    page.goto("/settings/")  # shown where it can be changed
    page.wait_for_selector("body[data-ready]", state="attached")
    assert page.locator("#f-timezone").input_value() == "America/Los_Angeles"


def test_a_phone_in_another_zone_asks_once_whether_to_move_the_diary(new_context, live):
    from diary.models import Profile

    alice = make_user("alice@example.org")  # London, set long ago
    profile = Profile.objects.filter(user=alice)
    page = new_context(user=alice, timezone_id="America/Los_Angeles").new_page()
    page.goto("/")
    offer = page.locator("#zone-offer")
    offer.wait_for()
    assert "This phone is in America/Los Angeles time, your diary in Europe/London time" in offer.text_content()
    screenshot(page, "zone-offer")
    offer.get_by_role("button", name="Keep London").click()
    offer.wait_for(state="hidden")
    page.reload()
    page.wait_for_selector("body[data-ready]", state="attached")
    page.wait_for_timeout(500)
    assert offer.is_hidden()  # asked once for this zone
    assert (profile.get().timezone, chip(page)["pending"]) == ("Europe/London", "0")

    moved = new_context(user=alice, timezone_id="America/Los_Angeles").new_page()  # another phone
    moved.goto("/")
    moved.get_by_role("button", name="Use Los Angeles").click()
    eventually(moved, lambda: profile.get().timezone == "America/Los_Angeles")
    assert moved.locator("#zone-offer").is_hidden()


def test_morning_none_is_one_tap_and_shows_as_a_cramp_free_night(new_context, live):
    alice = make_user("alice@example.org")
    context = new_context(user=alice)
    now = local_now()
    if now.hour < 4:
        # Between midnight and 4 a.m. the card stays away ("last night" is still going on).
        context.clock.install(time=now.replace(hour=8, minute=0))
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("#morning:not([hidden])")
    page.wait_for_selector("body[data-ready]", state="attached")
    screenshot(page, "morning-card")
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.click("#morning-none")
    page.wait_for_selector("#morning-done:not([hidden])")
    last_night = now.date() - timedelta(days=1)
    checkin = eventually(page, lambda: CheckIn.objects.filter(user=alice).first())
    wait_pending(page, 0)
    assert (checkin.date, checkin.no_cramps) == (last_night, True)

    page.goto(f"/diary/?night={last_night.isoformat()}")
    cell = page.locator(".day[aria-pressed='true']")
    cell.wait_for()
    assert "day-free" in cell.get_attribute("class")
    assert "cramp-free" in cell.text_content()
    assert page.locator(".day-missing").count() > 0 or last_night.day == 1  # missing nights look different


def test_a_red_flag_stays_until_acknowledged_then_moves_to_the_history(new_context, live):
    from insights import refresh
    from insights.models import RedFlagAcknowledgement

    alice = make_user("alice@example.org")
    reported = local_now() - timedelta(days=40)
    Episode.objects.create(user=alice, started_at=reported, muscle="calf", side="left", calf_swelling=True)
    refresh.analyse_and_store([alice.pk])
    page = new_context(user=alice).new_page()  # with the CSP: the button's handler is in the module
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/insights/")
    card = page.locator(".card-alarm", has_text="swollen, red or warm calf")
    card.wait_for()
    assert f"{reported.day} {reported:%b %Y}" in card.text_content()
    screenshot(page, "insights-red-flag")

    card.get_by_role("button", name="I've seen someone about this").click()
    page.wait_for_selector("#flag-history:not([hidden])")
    assert page.locator(".card-alarm").count() == 0
    assert "A swollen, red or warm calf" in page.locator("#flag-history").text_content()
    screenshot(page, "insights-red-flag-history")
    assert RedFlagAcknowledgement.objects.filter(user=alice, flag="calf_swelling").count() == 1
    assert errors == []


def test_a_red_flag_shows_what_to_do_at_the_tap_and_stays_on_the_log_page_until_seen_to(new_context, live):
    from diary.models import Profile
    from insights.models import RedFlagAcknowledgement

    alice = make_user("alice@example.org")
    episode = Episode.objects.create(
        user=alice, started_at=datetime.now(ZoneInfo("UTC")) - timedelta(hours=5), muscle="calf", side="left"
    )
    page = new_context(user=alice, bypass_csp=True).new_page()  # bypass_csp: axe is injected inline
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The numbers to call, set on You.
    page.goto("/settings/")
    page.wait_for_selector("body[data-ready]", state="attached")
    page.fill("#f-emergency_number", "call me")
    page.click("#profile-form button[type=submit]")
    assert "Digits and spaces only" in page.locator("[data-error-for='emergency_number']").text_content()
    page.fill("#f-emergency_number", "999")
    page.fill("#f-non_emergency_number", "111")
    page.click("#profile-form button[type=submit]")
    eventually(page, lambda: Profile.objects.filter(user=alice, emergency_number="999", non_emergency_number="111"))

    page.goto(f"/episode/?id={episode.uuid}")
    page.wait_for_selector("#episode-form:not([hidden])")
    box = page.locator("input[name=calf_swelling]")
    # Scrolled as a person reading down the list would be: the box just above the sticky Save bar.
    box.evaluate("el => window.scrollBy(0, el.getBoundingClientRect().bottom - (innerHeight - 170))")
    page.locator("label", has=box).click()
    advice = page.get_by_role("alert").filter(has_text="Get medical help today")
    advice.wait_for()
    page.wait_for_timeout(300)
    shown, bar = advice.bounding_box(), page.locator(".sticky-actions").bounding_box()
    assert page.locator(".topbar").bounding_box()["height"] <= shown["y"]
    assert shown["y"] + shown["height"] <= bar["y"]  # in view, not under the Save bar
    assert "Don't massage that calf in the meantime." in advice.text_content()
    assert advice.get_by_role("link", name="Call 111 non-emergency").get_attribute("href") == "tel:111"
    screenshot(page, "episode-red-flag-at-the-tap")
    problems = serious_violations(page, "episode-red-flag")

    page.click("#episode-form button[type=submit]")
    page.wait_for_url(live.url + "/")
    banner = page.locator(".flag-banner")
    banner.wait_for()
    text = banner.text_content()
    assert "A swollen, red or warm calf" in text and "Get medical help today." in text
    assert banner.get_by_role("link", name="Call 999 emergency", exact=True).get_attribute("href") == "tel:999"
    cramp_now = page.locator("#cramp-now").bounding_box()  # logging stays one tap away, in view
    assert cramp_now["y"] + cramp_now["height"] / 2 < page.locator(".tabbar").bounding_box()["y"]
    banner.get_by_text("What to do, today and tonight").click()
    assert "Tonight: If your doctor's surgery is closed" in banner.text_content()
    eventually(page, lambda: Episode.objects.filter(user=alice, calf_swelling=True).exists())

    page.reload()  # from the server now, not only from this phone
    page.wait_for_selector(".flag-banner:has-text('Reported on')")
    screenshot(page, "log-red-flag-banner")
    banner.get_by_text("What to do, today and tonight").click()
    screenshot(page, "log-red-flag-banner-what-to-do")
    problems += serious_violations(page, "log-red-flag-banner")
    assert problems == []

    banner.get_by_role("button", name="I've seen someone about this").click()
    banner.wait_for(state="detached")
    assert RedFlagAcknowledgement.objects.filter(user=alice, flag="calf_swelling").count() == 1
    page.reload()
    page.wait_for_selector("body[data-ready]", state="attached")
    assert banner.count() == 0
    assert errors == []


def test_offline_an_emergency_flag_shows_after_save_with_the_generic_number(new_context, live):
    alice = make_user("alice@example.org")  # no numbers set
    context = new_context(user=alice, service_workers="allow")
    page = context.new_page()
    page.goto("/")
    wait_for_worker(page)

    context.set_offline(True)
    quick_log(page, "calf", "right")
    page.click("#done-details")  # the details page, from the worker's cache
    page.wait_for_selector("#episode-form:not([hidden])")
    page.locator("label", has=page.locator("input[name=breathless_chest_pain]")).click()
    advice = page.get_by_role("alert").filter(has_text="Call emergency services now")
    advice.wait_for()
    assert "Call your local emergency number." in advice.text_content()
    page.click("#episode-form button[type=submit]")
    page.wait_for_url(live.url + "/")
    banner = page.locator(".flag-banner")
    banner.wait_for()
    text = banner.text_content()
    assert "Breathlessness or chest pain" in text and "Call emergency services now." in text
    assert "Call your local emergency number." in text and "Saved on this phone, not sent yet." in text
    screenshot(page, "log-red-flag-banner-offline")
    assert episodes_of(alice) == []

    context.set_offline(False)
    eventually(page, lambda: Episode.objects.filter(user=alice, breathless_chest_pain=True).exists())
    page.wait_for_selector(".flag-banner:has-text('Reported on')")  # the server has it now
    assert page.locator(".flag-banner").count() == 1


def test_details_added_to_a_cramp_sent_while_its_page_was_open_are_saved_without_a_conflict(new_context, live):
    alice = make_user("alice@example.org")
    context = new_context(user=alice, service_workers="allow")
    page = context.new_page()
    page.goto("/")
    wait_for_worker(page)
    context.set_offline(True)
    quick_log(page, "calf", "left")
    page.click("#done-details")  # opened while the cramp waits on the phone
    page.wait_for_selector("#episode-form:not([hidden])")

    context.set_offline(False)  # and sent while the page is open
    [episode] = eventually(page, lambda: episodes_of(alice))
    wait_pending(page, 0)
    page.fill("#episode-form [name=notes]", "Woke me twice")
    page.click("#episode-form button[type=submit]")
    page.wait_for_url("**/diary/**")
    eventually(page, lambda: Episode.objects.get(pk=episode.pk).notes == "Woke me twice")
    wait_pending(page, 0)
    wait_attention(page, 0)
    assert len(episodes_of(alice)) == 1


def test_a_bounced_address_and_a_paused_email_are_shown_on_you_with_the_way_back(new_context, live):
    from django.utils import timezone

    from diary.models import Profile

    alice = make_user("alice@example.org")
    profile = Profile.objects.filter(user=alice)
    profile.update(email_bounced_address="alice@example.org", email_bounced_at=timezone.now())
    page = new_context(user=alice).new_page()
    page.goto("/settings/")
    notice = page.locator("#email-bounced")
    notice.wait_for()
    assert "Emails to alice@example.org bounced" in notice.text_content()
    assert notice.get_by_role("link", name="Update my address").get_attribute("href") == "/accounts/email/"
    screenshot(page, "settings-email-bounced")
    notice.get_by_role("button", name="Re-enable this address").click()
    page.wait_for_selector("#email-bounced", state="hidden")
    eventually(page, lambda: not profile.get().email_bounced_address)

    profile.update(digest_paused_at=timezone.now() + timedelta(days=1))  # paused after the last entry
    page.reload()
    paused = page.locator("#email-paused")
    paused.wait_for()
    assert "The weekly email is paused" in paused.text_content()
    screenshot(page, "settings-email-paused")
    paused.get_by_role("button", name="Resume it now").click()
    eventually(page, lambda: profile.get().digest_paused_at is None)


def test_offline_a_page_outside_the_app_says_so_rather_than_showing_the_log_page(new_context, live):
    alice = make_user("alice@example.org")
    context = new_context(user=alice, service_workers="allow")
    page = context.new_page()
    page.goto("/")
    wait_for_worker(page)
    page.goto("/sharing/")  # online: the server's page
    assert page.get_by_role("heading", level=1).inner_text() != ""
    assert page.locator("#cramp-now").count() == 0

    context.set_offline(True)
    page.goto("/sharing/")
    assert "You're offline and this page isn't saved on this phone yet." in page.inner_text("body")
    assert page.locator("#cramp-now").count() == 0
    page.goto("/")  # the app's own pages still open offline
    page.wait_for_selector("#cramp-now")


def test_offline_five_cramps_survive_a_reload_and_sync_exactly_once(new_context, live):
    alice = make_user("alice@example.org")
    context = new_context(user=alice, service_workers="allow")
    page = context.new_page()
    page.goto("/")
    wait_for_worker(page)

    context.set_offline(True)
    for side in ("left", "right", "both", "left", "right"):
        quick_log(page, "calf", side)
        page.click("#done-close")
    wait_pending(page, 5)
    assert chip(page)["label"] == "5 on this phone"
    screenshot(page, "offline-five-pending")

    page.reload()  # offline: the service worker serves the page, IndexedDB still has the five
    page.wait_for_selector("#cramp-now")
    wait_pending(page, 5)
    page.goto("/diary/")  # the diary opens offline too, showing what is waiting
    page.wait_for_selector("#episode-list .badge")
    assert page.locator("#episode-list .badge").count() == 5
    assert episodes_of(alice) == []

    context.set_offline(False)
    wait_pending(page, 0)
    rows = episodes_of(alice)
    assert len(rows) == 5
    assert sorted(e.side for e in rows) == ["both", "left", "left", "right", "right"]
    page.reload()
    wait_pending(page, 0)
    assert len(episodes_of(alice)) == 5


def test_server_killed_mid_sync_loses_nothing_and_duplicates_nothing(new_context, live):
    alice = make_user("alice@example.org")
    context = new_context(user=alice)
    page = context.new_page()
    page.goto("/")
    context.set_offline(True)
    for side in ("left", "right", "both"):
        quick_log(page, "foot", side)
        page.click("#done-close")
    wait_pending(page, 3)

    statuses = []

    def kill_after_commit(route):
        response = route.fetch()  # the server applies the batch and commits...
        statuses.append(response.status)
        live.kill()  # ...and dies (SIGKILL) before the phone hears the answer
        route.abort("connectionreset")

    page.route("**/api/v1/sync/", kill_after_commit, times=1)
    context.set_offline(False)
    page.wait_for_selector("#sync-status[data-error]:not([data-error=''])", state="attached")
    assert statuses == [200]
    assert len(episodes_of(alice)) == 3  # on the server, but the phone doesn't know
    wait_pending(page, 3)

    page.click("#sync-status")
    page.click("#sync-now")  # the server is down: connection refused, nothing lost
    page.wait_for_selector("#sync-summary:has-text('No connection')")
    wait_pending(page, 3)
    screenshot(page, "sync-sheet-server-down")

    live.start()
    page.click("#sync-now")
    wait_pending(page, 0)
    rows = episodes_of(alice)
    assert len(rows) == 3
    assert sorted(e.side for e in rows) == ["both", "left", "right"]


def test_a_stalled_answer_times_out_is_resent_once_and_later_cramps_keep_flowing(new_context, live):
    alice = make_user("alice@example.org")
    context = new_context(user=alice)
    context.clock.install()  # the outbox's timeout is fast-forwarded rather than waited for
    page = context.new_page()
    stalled = []

    def stall_the_first_answer(route):
        if stalled:
            route.continue_()
            return
        route.fetch()  # the server stores the batch and answers...
        stalled.append(route)  # ...and the answer never reaches the phone: the request hangs

    page.route("**/api/v1/sync/", stall_the_first_answer)
    page.goto("/")
    quick_log(page, "calf", "left")
    page.click("#done-close")
    eventually(page, lambda: stalled)
    assert len(episodes_of(alice)) == 1  # stored, but the phone never heard

    quick_log(page, "foot", "right")  # logged while the answer hangs
    page.click("#done-close")
    wait_pending(page, 2)
    page.clock.fast_forward(21_000)
    wait_pending(page, 0)  # the later one went at once; the first was sent again with the same id
    assert len(episodes_of(alice)) == 2

    quick_log(page, "calf", "both")  # later still: sent without reopening the app
    eventually(page, lambda: len(episodes_of(alice)) == 3)
    wait_pending(page, 0)
    rows = episodes_of(alice)
    assert sorted((e.muscle, e.side) for e in rows) == [("calf", "both"), ("calf", "left"), ("foot", "right")]
    assert len(stalled) == 1


def test_refused_entries_wait_for_the_user_and_conflicts_are_shown(new_context, live):
    alice = make_user("alice@example.org")
    taken = uuid.uuid4()
    Episode.objects.create(
        user=alice,
        uuid=taken,
        started_at=datetime.now(ZoneInfo("UTC")) - timedelta(hours=3),
        muscle="calf",
        side="left",
    )
    page = new_context(user=alice).new_page()
    page.goto("/")
    wait_pending(page, 0)
    page.evaluate(
        """async (taken) => {
          const outbox = await import("/static/js/outbox.js");
          const tomorrow = new Date(Date.now() + 86400000).toISOString();
          const future = { id: crypto.randomUUID(), started_at: tomorrow, muscle: "calf", side: "left" };
          await outbox.saveEpisode(future, { create: true });
          const earlier = new Date(Date.now() - 3600000).toISOString();
          await outbox.saveEpisode({ id: taken, started_at: earlier, muscle: "foot", side: "right" }, { create: true });
        }""",
        str(taken),
    )
    wait_attention(page, 2)
    wait_pending(page, 0)
    page.click("#sync-status")
    page.wait_for_selector("#attention-list .attention-item:nth-child(2)")  # the sheet renders from IndexedDB
    assert page.locator(".attention-item").count() == 2
    text = page.inner_text("#attention-list")
    assert "in the future" in text  # the server's own field message
    assert "different" in text
    screenshot(page, "sync-sheet-needs-attention")

    page.click("text=Use this phone's version")
    wait_attention(page, 1)
    wait_pending(page, 0)
    stored = Episode.objects.get(user=alice, uuid=taken)
    assert (stored.muscle, stored.side) == ("foot", "right")

    page.click("#attention-list >> text=Discard")
    wait_attention(page, 0)
    assert Episode.objects.filter(user=alice).count() == 1


def test_two_accounts_on_one_phone_never_share_a_waiting_check_in(new_context, live):
    # Alice answers a night offline and logs out with it waiting (the outbox keeps it for her next
    # login); Bob logs in on the same phone and fills in the same date. His answer is his: it must
    # not merge into her waiting entry, and so into her diary.
    alice = make_user("alice@example.org")
    bob = make_user("bob@example.org")
    page = new_context(user=alice).new_page()
    page.goto("/")
    wait_pending(page, 0)
    night = (local_now() - timedelta(days=1)).date().isoformat()
    page.context.set_offline(True)
    mine = page.evaluate(
        """async ([alice, bob, night]) => {
          const outbox = await import("/static/js/outbox.js");
          outbox.setUser(alice);
          await outbox.saveCheckin(night, { no_cramps: true, fluids_cups: 8 });
          outbox.setUser(bob);  // what the next login's pages do (app.js boot)
          await outbox.saveCheckin(night, { fluids_cups: 3, stress: 7 });
          const bobs = await outbox.entries();
          outbox.setUser(alice);
          const alices = await outbox.entries();
          return { bobs: bobs.map((e) => [e.date, e.body]), alices: alices.map((e) => [e.date, e.body]) };
        }""",
        [str(alice.pk), str(bob.pk), night],
    )
    assert mine["bobs"] == [[night, {"fluids_cups": 3, "stress": 7}]]
    assert mine["alices"] == [[night, {"no_cramps": True, "fluids_cups": 8}]]

    page.context.set_offline(False)  # the page is Alice's: her entry goes to her diary
    eventually(page, lambda: CheckIn.objects.filter(user=alice).exists())
    stored = CheckIn.objects.get(user=alice)
    assert (stored.no_cramps, stored.fluids_cups, stored.stress) == (True, 8, None)
    assert not CheckIn.objects.filter(user=bob).exists()


def test_service_worker_is_registered_and_the_manifest_is_installable(playwright, live, tmp_path):
    from cramptrack.tests.conftest import CHROMIUM, CHROMIUM_ARGS, session_for

    alice = make_user("alice@example.org")
    # A persistent profile: Chromium never offers to install from an incognito context.
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, base_url=live.url
    )
    context.add_cookies([{"name": "sessionid", "value": session_for(alice), "url": live.url}])
    page = context.new_page()
    page.goto("/")
    assert wait_for_worker(page) == live.url + "/sw.js"
    scope = page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.scope)")
    assert scope == live.url + "/"

    with urllib.request.urlopen(live.url + "/sw.js") as response:  # noqa: S310
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Service-Worker-Allowed"] == "/"
        assert response.headers["Content-Type"].startswith("text/javascript")

    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    body = json.loads(manifest["data"])
    assert body["display"] == "standalone" and body["start_url"] == "/"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in body["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in body["icons"]:
        with urllib.request.urlopen(live.url + icon["src"]) as response:  # noqa: S310
            png = response.read()
        width, height = struct.unpack(">II", png[16:24])
        assert f"{width}x{height}" == icon["sizes"]

    # The app shell opens offline, straight from the worker's cache.
    context.set_offline(True)
    for path in ("/", "/diary/", "/checkin/", "/insights/", "/settings/"):
        page.goto(path)
        page.wait_for_selector(".tabbar")
    context.close()


# --- Accessibility, phone fit and screenshots -----------------------------------------------


def demo_patient():
    from accounts.models import User
    from diary.demo import seed_demo
    from insights import refresh

    seed_demo()
    patient = User.objects.get(email="patient@demo.cramptrack.local")
    refresh.analyse_and_store([patient.pk])
    return patient


def serious_violations(page, name: str) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, { runOnly: { type: 'tag', values: tags } })", AXE_TAGS)
    report = ARTIFACTS / "axe"
    report.mkdir(parents=True, exist_ok=True)
    (report / f"{name}.json").write_text(json.dumps(result["violations"], indent=1))
    return [
        f"{name}: {v['id']} ({v['impact']}) {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def settle(page) -> None:
    """Wait for an app page's first render (its module sets <body data-ready>)."""
    if page.locator("body.app").count():
        page.wait_for_selector("body[data-ready]", state="attached")


def test_main_screens_are_accessible_fit_320px_and_are_screenshotted(new_context, live):
    patient = demo_patient()
    some_episode = Episode.objects.filter(user=patient).order_by("-started_at").first()
    yesterday = (local_now().date() - timedelta(days=1)).isoformat()
    pages = [
        ("log", "/"),
        ("checkin", f"/checkin/?date={yesterday}"),
        ("diary", "/diary/"),
        ("episode", f"/episode/?id={some_episode.uuid}"),
        ("insights", "/insights/"),
        ("settings", "/settings/"),
        ("welcome", "/welcome/"),
    ]
    problems = []
    for scheme in ("dark", "light"):
        context = new_context(user=patient, color_scheme=scheme, bypass_csp=True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        for name, path in pages:
            page.goto(path)
            settle(page)
            problems += serious_violations(page, f"{scheme}-{name}")
            screenshot(page, f"{scheme}-{name}")
        # The quick log's steps and the sync sheet.
        page.goto("/")
        settle(page)
        page.click("#cramp-now")
        problems += serious_violations(page, f"{scheme}-log-muscle")
        screenshot(page, f"{scheme}-log-muscle")
        page.click('[data-muscle="calf"]')
        problems += serious_violations(page, f"{scheme}-log-side")
        screenshot(page, f"{scheme}-log-side")
        page.click('[data-side="left"]')
        page.wait_for_selector("#step-done:not([hidden])")
        problems += serious_violations(page, f"{scheme}-log-done")
        screenshot(page, f"{scheme}-log-done")
        page.click("#sync-status")
        problems += serious_violations(page, f"{scheme}-sync-sheet")
        assert errors == [], errors

        guest = new_context(color_scheme=scheme, bypass_csp=True).new_page()
        for name, path in (("login", "/accounts/login/"), ("signup", "/accounts/signup/")):
            guest.goto(path)
            problems += serious_violations(guest, f"{scheme}-{name}")
            screenshot(guest, f"{scheme}-{name}")
    assert problems == []

    narrow = new_context(user=patient, viewport={"width": 320, "height": 640}).new_page()
    too_wide = {}
    for name, path in [*pages, ("login", "/accounts/logout/")]:
        narrow.goto(path)
        settle(narrow)
        width = narrow.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[name] = width
    screenshot(narrow, "320-logout")
    narrow.goto("/")
    settle(narrow)
    screenshot(narrow, "320-log")
    assert too_wide == {}
