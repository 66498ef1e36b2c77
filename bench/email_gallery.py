"""Every kind of weekly email, rendered as people receive it: PNGs at phone width (390 px) in light and dark
mode, and the plain-text part with its subject, for reviewing the emails by eye.

    .venv/bin/python bench/email_gallery.py OUT_DIR

No database: each case is a diary built in memory, its findings made by the analysis's own rules from
set numbers, then the same code as the weekly email (notifications.digest, notifications.emails) builds and renders
it. Playwright drives Debian's Chromium (/usr/bin/chromium). Writes OUT_DIR/<case>-light.png,
<case>-dark.png and <case>.txt.
"""

import os
import sys
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
WEEK = date(2026, 11, 2)  # the nights of Monday 2 to Sunday 8 November 2026
CHROMIUM = "/usr/bin/chromium"


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cramptrack.settings")
    os.environ.setdefault("SECRET_KEY", "email-gallery-only")
    import django

    django.setup()


def diary(weeks: dict[int, dict[int, int]], first_night: date, details=()) -> dict:
    """Check-ins and cramps per night: weeks back from the covered one (0) -> {day offset: cramps}."""
    per_night, answered = {}, {}
    for back, nights in weeks.items():
        for offset, cramps in nights.items():
            night = WEEK - timedelta(days=7 * back - offset)
            answered[(1, night)] = cramps == 0
            if cramps:
                per_night[(1, night)] = cramps
    return {
        "per_night": per_night,
        "answered": answered,
        "details": {1: list(details)},
        "first_nights": {1: first_night},
    }


def usual(nights: dict[int, int] | None = None) -> dict[int, dict[int, int]]:
    """Four earlier weeks of 2 cramps in 7 logged nights, and this week's nights."""
    return {back: {0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0} for back in range(1, 5)} | {0: nights or {}}


def stored(finding, rank: int = 5):
    """A rule's result as the Finding row the email reads."""
    from insights.models import Finding

    return Finding(
        user_id=1,
        key=finding.key,
        rule=finding.rule,
        trigger=finding.trigger,
        status=finding.status,
        escalation=finding.escalation or "",
        rank=rank,
        counts=finding.counts,
        nights_needed=finding.nights_needed,
        message=finding.message,
        tip=finding.tip,
        source=finding.source,
    )


def exposure_findings() -> list:
    from insights.rules.exposures import R02, R02S, R03, R04S, R10
    from insights.stats import Comparison

    return [
        stored(R02.evaluate(Comparison(40, 40, 30, 80, 1.0), 120), rank=3),
        stored(R02S.evaluate(Comparison(4, 12, 20, 60, 1.0), 120)),
        stored(R03.evaluate(Comparison(3, 9, 20, 70, 1.0), 120)),
        stored(R10.evaluate(Comparison(15, 40, 40, 80, 1.0), 120)),
        stored(R04S.evaluate(Comparison(0, 0, 0, 0, 1.0), 120)),
    ]


def red_flag(name: str) -> list:
    from insights.diary_stats import Reported
    from insights.rules.hard_stops import red_flags

    stats = SimpleNamespace(
        red_flags={name: Reported(date(2026, 11, 5), date(2026, 11, 5), 1, 0)},
        today=date(2026, 11, 9),
        profile={},
        courses=[],
    )
    return [stored(f, rank=0) for f in red_flags(stats)]


def pregnancy() -> list:
    from insights.rules.descriptive import r11_pregnancy

    return [stored(r11_pregnancy(SimpleNamespace(trimesters={})))]


def cases() -> dict:
    from notifications.digest import History

    joined_friday = date(2026, 11, 6)
    old = date(2026, 9, 1)
    details = [(WEEK + timedelta(days=d), 6, 2.0) for d in range(7)]
    return {
        "welcome": (diary({0: {4: 0, 5: 1}}, joined_friday, details[5:6]), [], History()),
        "missed": (diary(usual(), old), [], History()),
        "paused": (diary(usual(), old), [], History(missed_in_a_row=2)),
        "thin": (diary(usual({1: 1, 3: 0}), old, details[1:2]), exposure_findings()[2:], History()),
        "pattern": (
            diary(usual({0: 2, 1: 0, 2: 1, 3: 0, 4: 2, 5: 0, 6: 0}), old, details),
            exposure_findings(),
            History(),
        ),
        "red-flag-e0": (diary(usual({0: 0, 1: 0, 2: 1}), old), red_flag("breathless_chest_pain"), History()),
        "red-flag-e1": (diary(usual({0: 0, 1: 0, 2: 1}), old), red_flag("calf_swelling"), History()),
        "red-flag-e2": (diary(usual({0: 0, 1: 0, 2: 1}), old), red_flag("numbness_tingling"), History()),
        "pregnancy": (diary(usual({0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0}), old), pregnancy(), History()),
    }


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    setup()
    from playwright.sync_api import sync_playwright

    from notifications.digest import _digest
    from notifications.emails import render_digest

    person = SimpleNamespace(pk=1, email="alice@example.org")
    rendered = {}
    for name, (rows, findings, history) in cases().items():
        digest = _digest(WEEK, rows, 1, findings, history)
        subject, text, html = render_digest(person, digest)
        (out / f"{name}.txt").write_text(f"Subject: {subject}\n\n{text}")
        rendered[name] = html
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 390, "height": 844}, color_scheme=scheme)
            for name, html in rendered.items():
                page.set_content(html)
                page.screenshot(path=out / f"{name}-{scheme}.png", full_page=True)
            page.close()
        browser.close()
    for path in sorted(out.iterdir()):
        print(path)


if __name__ == "__main__":
    main()
