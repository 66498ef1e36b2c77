""" "You" in a real browser: the report for one's own doctor, the way to sharing, and the
import with its preview (the server's dry run) before anything is saved."""

import pytest

from conftest import make_user
from cramptrack.tests.conftest import screenshot
from cramptrack.tests.test_pwa_browser import eventually, serious_violations, settle
from diary.models import CheckIn, Episode

pytestmark = pytest.mark.browser

CHT_EXPORT = (
    b"start_time,end_time,intensity,medication,triggers,notes,barometric_pressure\n"
    b"2026-03-02 23:00:00,2026-03-03 00:15:00,8,oxygen,Alcohol,Night attack,\n"
    b"2026-03-01 08:00:00,2026-03-01 10:30:00,7,,,,\n"
)
BAD_SHEET = b"date,stress\n2026-10-01,3\n2026-10-02,eleven\n2026-13-45,4\n"


def file(name: str, content: bytes) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


def test_you_links_to_sharing_and_downloads_a_report_for_ones_doctor(new_context, live):
    alice = make_user("alice@example.org")
    for scheme in ("dark", "light"):
        page = new_context(user=alice, color_scheme=scheme).new_page()
        page.goto("/settings/")
        settle(page)
        page.locator("#doctor-title").scroll_into_view_if_needed()
        screenshot(page, f"{scheme}-you-doctor")
    report = page.get_by_role("link", name="Report for my doctor (PDF)")
    with page.expect_download() as download:
        report.click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    assert download.value.suggested_filename.startswith("cramptrack-report-")

    page.get_by_role("link", name="Share with a clinician").click()
    page.wait_for_url("**/sharing/")
    assert page.get_by_role("heading", level=1).count() == 1


def test_an_import_is_previewed_line_by_line_then_saved_once(new_context, live):
    alice = make_user("alice@example.org")
    problems = []
    for scheme in ("light", "dark"):
        Episode.objects.filter(user=alice).delete()
        CheckIn.objects.filter(user=alice).delete()
        CheckIn.objects.create(user=alice, date="2026-03-01", stress=2)
        page = new_context(user=alice, color_scheme=scheme, bypass_csp=True).new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto("/settings/")
        settle(page)

        page.set_input_files("#f-import-files", [file("checkins.csv", BAD_SHEET)])
        preview = page.locator("#import-preview")
        preview.get_by_text("Nothing can be imported until these 2 lines are fixed").wait_for()
        items = preview.locator("li").all_text_contents()
        assert [item.split(":")[0] for item in items] == ["checkins.csv line 3", "checkins.csv line 4"]
        assert page.locator("#import-actions").is_hidden()
        assert "null" not in preview.text_content()
        preview.scroll_into_view_if_needed()
        screenshot(page, f"{scheme}-you-import-errors")
        problems += serious_violations(page, f"{scheme}-you-import-errors")

        good = b"date,stress\n2026-03-01,2\n2026-03-03,4\n"
        page.set_input_files("#f-import-files", [file("headache_logs.csv", CHT_EXPORT), file("checkins.csv", good)])
        preview.get_by_text("Ready to import").wait_for()
        text = " ".join(preview.text_content().split())
        assert "New: Cramps: 2, Check-ins: 1." in text
        assert "Already in your diary: Check-ins: 1." in text
        assert "2 rows from Cluster Headache Tracker" in text
        assert page.locator("#import-leg").is_visible()
        page.select_option("#f-import-muscle", "calf")
        page.select_option("#f-import-side", "left")
        preview.get_by_text("Ready to import").wait_for()
        screenshot(page, f"{scheme}-you-import-preview")
        problems += serious_violations(page, f"{scheme}-you-import-preview")
        assert Episode.objects.filter(user=alice).count() == 0  # a preview saves nothing
        assert CheckIn.objects.filter(user=alice).count() == 1

        page.get_by_role("button", name="Import").click()
        preview.get_by_text("Imported.").wait_for()
        rows = eventually(page, lambda: list(Episode.objects.filter(user=alice)))
        assert {(e.muscle, e.side) for e in rows} == {("calf", "left")} and len(rows) == 2
        assert CheckIn.objects.filter(user=alice).count() == 2
        assert errors == []
    assert problems == []


def test_a_slow_import_is_waited_for_and_said_to_be_under_way(new_context, live):
    """A large file takes longer than the sync's 20 s timeout, twice (the preview, then the import):
    the app says what it is doing, waits, and shows the server's answer, never "no connection"."""
    alice = make_user("alice@example.org")
    context = new_context(user=alice)
    context.clock.install()  # the timeouts are fast-forwarded rather than waited for
    page = context.new_page()
    held = []

    def hold_the_answer(route):
        held.append((route, route.fetch()))  # the server has answered; the phone hears it only when released

    page.route("**/api/v1/import/", hold_the_answer)
    page.goto("/settings/")
    settle(page)
    page.set_input_files("#f-import-files", [file("headache_logs.csv", CHT_EXPORT)])
    preview = page.locator("#import-preview")
    preview.get_by_text("Checking your files…").wait_for()
    eventually(page, lambda: len(held) == 1)
    page.clock.fast_forward(60_000)
    route, answer = held[0]
    route.fulfill(response=answer)
    preview.get_by_text("Ready to import").wait_for()
    assert page.locator('#import-form [data-error-for="files"]').is_hidden()

    commit = page.get_by_role("button", name="Import")
    commit.click()
    preview.get_by_text("Importing…").wait_for()
    assert commit.is_hidden()  # no second tap while it runs
    screenshot(page, "you-import-under-way")
    eventually(page, lambda: len(held) == 2)
    assert Episode.objects.filter(user=alice).count() == 2  # saved on the server, the phone still waiting
    page.clock.fast_forward(60_000)
    route, answer = held[1]
    route.fulfill(response=answer)
    preview.get_by_text("Imported.").wait_for()
    assert "connection" not in preview.inner_text()
    assert Episode.objects.filter(user=alice).count() == 2

    # An answer that never comes: after five minutes the app says so, and that trying again is safe.
    page.set_input_files("#f-import-files", [file("headache_logs.csv", CHT_EXPORT)])
    preview.get_by_text("Checking your files…").wait_for()
    eventually(page, lambda: len(held) == 3)
    page.clock.fast_forward(5 * 60_000 + 1_000)
    error = page.locator('#import-form [data-error-for="files"]')
    error.get_by_text("The server didn't answer in time").wait_for()
    assert preview.is_hidden()
