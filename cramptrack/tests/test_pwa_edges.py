"""The edges in a real browser: the "Morning check-in" shortcut, the insights charts and titles,
and the error and account pages in the app's look (axe-checked, screenshotted light and dark)."""

from datetime import date, timedelta

import pytest
from django.test import RequestFactory

from conftest import make_user
from cramptrack import errors
from cramptrack.tests.conftest import screenshot
from cramptrack.tests.test_pwa_browser import serious_violations, settle

pytestmark = pytest.mark.browser


def test_the_morning_check_in_shortcut_opens_on_last_nights_question(new_context, live):
    alice = make_user("alice@example.org")
    for scheme in ("light", "dark"):
        page = new_context(user=alice, color_scheme=scheme).new_page()
        manifest = page.request.get("/manifest.webmanifest").json()
        [shortcut] = [s for s in manifest["shortcuts"] if s["name"] == "Morning check-in"]
        page.goto(shortcut["url"])
        settle(page)
        page.wait_for_selector("#night-card:not([hidden])")
        assert page.inner_text("#night-question") == "Any cramps last night?"
        screenshot(page, f"{scheme}-checkin-shortcut")


def insights_answer(weeks: int = 11) -> dict:
    """An insights answer as the API gives it: 11 weeks (a Monday's), two of them not logged at all."""
    monday = date(2026, 9, 7)
    weekly = []
    for i in range(weeks):
        logged = 0 if i in (4, 5) else 7 - i % 3
        weekly.append(
            {
                "week_of": (monday + timedelta(weeks=i)).isoformat(),
                "cramps": (i * 5) % 7 if logged else 0,
                "cramp_nights": min(logged, (i * 5) % 7),
                "logged_nights": logged,
                "nights": 7,
                "completeness": round(logged / 7, 2),
            }
        )
    waiting = {"status": "insufficient_data", "escalation": "", "message": "", "tip": "", "source": ""}
    findings = [
        {**waiting, "key": "R01", "rule": "R01", "trigger": "pat_nocturnal_rest", "nights_needed": 10, "counts": {}},
        {**waiting, "key": "R08", "rule": "R08", "trigger": "pat_nocturnal_rest", "nights_needed": 8, "counts": {}},
        {**waiting, "key": "R02", "rule": "R02", "trigger": "tr_overuse_exertion", "nights_needed": 9, "counts": {}},
        {**waiting, "key": "R02s", "rule": "R02", "trigger": "tr_overuse_exertion", "nights_needed": 9, "counts": {}},
    ]
    return {
        "findings": findings,
        "weekly": weekly,
        "by_hour": [0] * 2 + [3, 5, 4, 2] + [0] * 18,
        "completeness": {"days": 28, "logged_nights": 20, "share": 0.71},
        "analysed_at": "2026-11-23T08:00:00Z",
        "red_flag_history": [],
    }


def overlapping(boxes: list[dict]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes)
        if i < j and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
    ]


def test_insights_draws_no_count_for_an_unlogged_week_labels_apart_and_each_card_its_own_title(new_context, live):
    alice = make_user("alice@example.org")
    answer = insights_answer()
    for scheme in ("light", "dark"):
        page = new_context(user=alice, color_scheme=scheme).new_page()
        page.route("**/api/v1/insights/", lambda route: route.fulfill(json=answer))
        page.goto("/insights/")
        settle(page)
        page.wait_for_selector("#weekly-chart svg")
        counts = page.locator("#weekly-chart .bar-label").all_text_contents()
        assert len(counts) == 9  # 11 weeks, 2 with no logged night: nothing drawn above those
        assert counts == [str(w["cramps"]) for w in answer["weekly"] if w["logged_nights"]]
        labels = page.locator("#weekly-chart .axis-label")
        assert labels.last.text_content() == "16 Nov"  # the latest week is labelled
        boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
        assert overlapping(boxes) == []
        titles = page.locator("#waiting-list strong").all_text_contents()
        assert titles == [
            "Cramps at night or at rest",
            "Early, middle or late in the night",
            "Hard or unusual exercise",
            "Your least active days",
        ]
        page.locator("#weekly-title").scroll_into_view_if_needed()
        screenshot(page, f"{scheme}-insights-weeks")


def test_error_and_account_pages_wear_the_apps_look(new_context, live):
    alice = make_user("alice@example.org")
    failed = errors.server_error(RequestFactory().get("/")).content.decode()
    problems = []
    for scheme in ("light", "dark"):
        page = new_context(user=alice, color_scheme=scheme, bypass_csp=True).new_page()
        response = page.goto("/no/such/page/")
        assert response.status == 404
        assert page.get_by_role("heading", name="Page not found").is_visible()
        problems += serious_violations(page, f"{scheme}-404")
        screenshot(page, f"{scheme}-404")

        page.route("**/broken/", lambda route: route.fulfill(status=500, body=failed, content_type="text/html"))
        page.goto("/broken/")
        assert page.get_by_role("heading", name="Something went wrong").is_visible()
        background = page.evaluate("getComputedStyle(document.body).backgroundImage")
        assert background.startswith("radial-gradient")  # the app's stylesheet, not a bare page
        problems += serious_violations(page, f"{scheme}-500")
        screenshot(page, f"{scheme}-500")

        for name, path in (("email", "/accounts/email/"), ("password-change", "/accounts/password/change/")):
            page.goto(path)
            problems += serious_violations(page, f"{scheme}-{name}")
            screenshot(page, f"{scheme}-account-{name}")
        radio = page.goto("/accounts/email/") and page.locator("input[type=radio]").first
        assert radio.bounding_box()["width"] >= 20  # the app's check size, not the browser's 13 px
        remove = page.get_by_role("button", name="Remove")
        assert "btn-primary" not in remove.get_attribute("class")
    assert problems == []
