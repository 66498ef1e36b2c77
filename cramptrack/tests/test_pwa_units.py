"""Units, time and the night in a real browser: fluids in ml or US fl oz (the diary keeps cups of
250 ml), a 24 h or 12 h clock, "last night at 3" from hour chips, the theme chosen under You, and a
"Cramp now" button that stays dark at 3 a.m."""

import io
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from conftest import make_user
from cramptrack.tests.conftest import ZONE, screenshot
from cramptrack.tests.test_pwa_browser import eventually, serious_violations, settle
from diary.models import CheckIn, Episode, Profile

pytestmark = pytest.mark.browser

# Mid-grey: CIE L* 50, a relative luminance of 0.184.
MID_GREY = 0.184


def luminance(png: bytes) -> np.ndarray:
    """Each pixel's relative luminance (WCAG 2: linearised sRGB, Rec. 709 weights)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def set_profile(user, **fields) -> None:
    Profile.objects.filter(user=user).update(**fields)


def a_morning() -> datetime:
    """Yesterday 09:30 on the phone: last night's hours are all in the past, whenever the test runs. The
    morning after a clock change is skipped for the day before: a spring-forward night has 12 hour chips."""
    zone = ZoneInfo(ZONE)
    morning = datetime.combine(datetime.now(zone).date() - timedelta(days=1), time(9, 30), tzinfo=zone)
    while (morning - timedelta(days=1)).replace(hour=20).utcoffset() != morning.utcoffset():
        morning -= timedelta(days=1)
    return morning


def test_last_night_at_3_is_four_taps_from_hour_chips_in_the_chosen_clock(new_context, live):
    alice = make_user("alice@example.org")
    morning = a_morning()
    three = morning.replace(hour=3, minute=0)
    for scheme, clock, three_label, three_time, first, last in (
        ("light", "12h", "3 am", "3:00 am", "8 pm", "8 am"),
        ("dark", "24h", "03:00", "03:00", "20:00", "08:00"),
    ):
        Episode.objects.filter(user=alice).delete()
        set_profile(alice, clock=clock)
        page = new_context(user=alice, color_scheme=scheme).new_page()
        page.clock.set_fixed_time(morning)
        page.goto("/")
        settle(page)

        page.click("#cramp-earlier")
        chips = page.locator("#hour-chips button").all_text_contents()
        assert (chips[0], chips[-1], len(chips)) == (first, last, 13)  # 8 pm to 8 am
        screenshot(page, f"{scheme}-log-hour-chips")
        page.get_by_role("button", name=three_label, exact=True).click()
        taps = 2
        for selector in ('[data-muscle="calf"]', '[data-side="left"]'):
            page.click(selector)
            taps += 1
        page.wait_for_selector("#step-done:not([hidden])")
        assert taps == 4  # the date-and-time picker took 9

        [episode] = eventually(page, lambda: list(Episode.objects.filter(user=alice)))
        assert episode.started_at == three
        assert episode.time_approximate is False
        assert episode.night == three.date() - timedelta(days=1)
        # The same clock wherever a time shows.
        assert f"Left calf, {three_time}." in page.text_content("#done-text")

    # The picker is still there for another day or an odd minute.
    page.click("#done-another")
    page.click("#when-other")
    assert page.locator("#custom-at").is_visible()


@pytest.mark.parametrize(
    "hour, entry",
    [
        (9, "#morning-yes"),  # the morning's "I had cramps": a guess on the night that just ended
        (1, "#cramp-earlier"),  # the small hours: the night still going on, not the one before it
    ],
)
def test_not_sure_of_the_time_files_a_guess_on_the_night_the_chips_show(new_context, live, hour, entry):
    alice = make_user("alice@example.org")
    moment = a_morning().replace(hour=hour)
    page = new_context(user=alice).new_page()
    page.clock.set_fixed_time(moment)
    page.goto("/")
    settle(page)
    page.click(entry)
    page.click("#when-unsure")
    page.click('[data-muscle="foot"]')
    page.click('[data-side="right"]')
    page.wait_for_selector("#step-done:not([hidden])")
    [episode] = eventually(page, lambda: list(Episode.objects.filter(user=alice)))
    assert (episode.time_approximate, episode.night) == (True, moment.date() - timedelta(days=1))


@pytest.mark.parametrize(
    "unit, label, yesterday_text, first_tap, stored",
    [
        # 6 cups of 250 ml; + starts at 1,500 ml = 6 cups, or 48 fl oz = 1,419.5 ml = 5.7 cups.
        ("ml", "ml", "Yesterday: 1,500 ml", "1500", Decimal("6.0")),
        ("us_fl_oz", "fl oz", "Yesterday: 51 fl oz", "48", Decimal("5.7")),
    ],
)
def test_fluids_are_entered_and_shown_in_the_chosen_unit_and_kept_as_cups(
    new_context, live, unit, label, yesterday_text, first_tap, stored
):
    alice = make_user("alice@example.org")
    set_profile(alice, fluid_unit=unit)
    today = datetime.now(ZoneInfo(ZONE)).date()
    CheckIn.objects.create(user=alice, date=today - timedelta(days=1), fluids_cups=Decimal("6"))
    page = new_context(user=alice).new_page()
    page.goto("/checkin/")
    settle(page)
    field = page.locator('[data-field="fluids_cups"]')
    assert field.locator(".unit").text_content() == label
    assert "A cup is 250 ml" in field.locator(".hint").text_content()
    assert field.locator("[data-yesterday]").text_content().startswith(yesterday_text)

    field.scroll_into_view_if_needed()
    screenshot(page, f"light-checkin-fluids-{unit}")
    field.get_by_role("button", name="Increase fluids").click()
    assert page.input_value("#f-fluids_cups") == first_tap
    saved = eventually(page, lambda: CheckIn.objects.filter(user=alice, date=today, fluids_cups__isnull=False).first())
    assert saved.fluids_cups == stored

    page.reload()  # shown again in the chosen unit, not in cups
    settle(page)
    assert page.input_value("#f-fluids_cups") == first_tap


def choose(form, group: str, option: str) -> None:
    form.get_by_role("group", name=group).get_by_role("radio", name=option, exact=True).check()


def test_you_sets_units_and_clock_on_the_profile_and_the_theme_on_this_phone(new_context, live):
    alice = make_user("alice@example.org")
    page = new_context(user=alice, color_scheme="light", bypass_csp=True).new_page()  # bypass: for axe
    page.goto("/settings/")
    settle(page)
    card = page.locator("#display-form")
    assert "cups of 250 ml" in card.text_content()
    choose(card, "Fluids in", "US fl oz")
    choose(card, "Clock", "12 h: 11:30 pm")
    eventually(page, lambda: Profile.objects.filter(user=alice, fluid_unit="us_fl_oz", clock="12h").exists())
    assert page.locator('#f-digest_hour option[value="18"]').text_content() == "6 pm"
    choose(card, "Clock", "As the phone")  # en-GB writes 18:00
    eventually(page, lambda: Profile.objects.filter(user=alice, clock="").exists())
    assert page.locator('#f-digest_hour option[value="18"]').text_content() == "18:00"

    def background() -> float:
        return float(luminance(page.screenshot(clip={"x": 0, "y": 0, "width": 390, "height": 40})).mean())

    assert background() > MID_GREY  # the phone is light
    choose(card, "Theme", "Dark")
    assert background() < MID_GREY
    screenshot(page, "dark-you-units-clock-theme")
    problems = serious_violations(page, "dark-you-units-clock-theme")

    # Applied before first paint: without any of the app's modules, the page is dark from the start.
    page.route("**/static/js/**", lambda route: route.abort())
    page.goto("/settings/")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert background() < MID_GREY
    page.unroute("**/static/js/**")

    page.goto("/settings/")
    settle(page)
    choose(page.locator("#display-form"), "Theme", "As the phone")
    assert background() > MID_GREY
    assert page.evaluate("localStorage.getItem('theme')") is None
    page.locator("#display-title").scroll_into_view_if_needed()
    screenshot(page, "light-you-units-clock-theme")
    problems += serious_violations(page, "light-you-units-clock-theme")
    assert problems == []


def test_cramp_now_is_darker_than_mid_grey_in_the_dark_and_leaves_the_screen_dark(new_context, live):
    alice = make_user("alice@example.org")
    three_am = a_morning().replace(hour=3, minute=0)  # the morning card waits until 4
    for how, options, init in (
        ("phone-dark", {"color_scheme": "dark"}, None),
        ("chosen-dark", {"color_scheme": "light"}, "localStorage.setItem('theme', 'dark')"),
    ):
        context = new_context(user=alice, **options)
        if init:
            context.add_init_script(init)
        page = context.new_page()
        page.clock.set_fixed_time(three_am)
        page.goto("/")
        settle(page)
        button = luminance(page.locator("#cramp-now").screenshot())
        screen = luminance(page.screenshot())
        screenshot(page, f"dark-log-cramp-now-{how}")
        assert np.median(button) < MID_GREY, how
        assert (button > MID_GREY).mean() < 0.1, how  # the words only
        assert (screen > MID_GREY).mean() < 0.05, how  # it was 35% with the light-salmon button

    light = new_context(user=alice, color_scheme="light").new_page()
    light.goto("/")
    settle(light)
    screenshot(light, "light-log-cramp-now")
