"""The clinician's numbers and charts, from hand-made panels (no database)."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from insights.panel import CONTEXT_FIELDS, Course, build_panel
from sharing import charts, figures

ZONE = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 20)


def panel(nights: dict[date, int | None], courses=(), today=TODAY):
    """`nights`: cramps per night, None for a check-in-less night that still had no episode (missing)."""
    checkins, counts = [], {}
    for day, cramps in nights.items():
        if cramps is None:
            continue
        checkins.append((day, cramps == 0, None, None, *([None] * len(CONTEXT_FIELDS))))
        if cramps:
            counts[day] = cramps
    return build_panel(1, ZONE, today, {"timezone": "Europe/London"}, counts, checkins, [], list(courses))


def test_missing_nights_are_missing_not_zero():
    last = TODAY - timedelta(days=1)
    p = panel({last - timedelta(days=2): 2, last - timedelta(days=1): None, last: 0})
    series = figures.nightly(p, last - timedelta(days=3), last)
    assert [v for _, v in series] == [None, 2, None, 0]
    w = figures.window(p, last - timedelta(days=3), last)
    assert (w.cramps, w.logged, w.nights, w.rate) == (2, 2, 4, 1.0)


def test_recent_and_previous_are_the_30_nights_ending_last_night():
    last = TODAY - timedelta(days=1)
    p = panel({last - timedelta(days=i): 1 for i in range(60)})
    recent, previous = figures.recent_and_previous(p)
    assert (recent.first, recent.last, recent.cramps) == (last - timedelta(days=29), last, 30)
    assert (previous.last, previous.cramps) == (last - timedelta(days=30), 30)


def test_worsening_needs_enough_logged_nights_and_a_real_rise():
    w = figures.Window
    day = TODAY
    assert figures.worsening(w(day, day, 30, 20, 15), w(day, day, 10, 20, 8))
    assert not figures.worsening(w(day, day, 6, 4, 4), w(day, day, 1, 20, 1))  # too few logged nights
    assert not figures.worsening(w(day, day, 12, 20, 10), w(day, day, 10, 20, 8))


def test_weeks_run_from_the_start_of_the_range_against_the_28_nights_before():
    first = date(2026, 10, 1)
    nights = {first - timedelta(days=i): 1 for i in range(1, 29)}  # baseline: 1 a night
    nights.update({first + timedelta(days=i): 2 for i in range(10)})  # the range: 2 a night
    p = panel(nights)
    weeks, baseline = figures.weeks_against_baseline(p, first, first + timedelta(days=9))
    assert baseline.rate == 1.0 and baseline.logged == 28
    assert [w.window.nights for w in weeks] == [7, 3]
    assert [w.ratio_to_baseline for w in weeks] == [2.0, 2.0]


def test_before_and_after_a_course_start():
    start = date(2026, 10, 1)
    nights = {start - timedelta(days=i): 1 for i in range(1, 29)}
    nights.update({start + timedelta(days=i): 3 for i in range(28)})
    statin = Course("u", "Atorvastatin", "statin", start, None)
    [effect] = figures.course_effects(panel(nights, [statin]))
    assert effect.before.rate == 1.0 and effect.after.rate == 3.0 and effect.ratio == 3.0


def test_a_dst_week_has_seven_nights():
    # Clocks go back on 25 October 2026 in London: still one night per calendar day.
    first = date(2026, 10, 22)
    p = panel({first + timedelta(days=i): i % 2 for i in range(7)})
    series = figures.nightly(p, first, first + timedelta(days=6))
    assert len(series) == 7 and None not in [v for _, v in series]


def test_calendar_months_mark_days_outside_the_range():
    series = [(date(2026, 10, 30), 1), (date(2026, 10, 31), None), (date(2026, 11, 1), 0)]
    months = figures.calendar_months(series)
    assert [m for m, _ in months] == [date(2026, 10, 1), date(2026, 11, 1)]
    october = [d for week in months[0][1] for d in week if d.in_range]
    assert [(d.day.day, d.level) for d in october] == [(30, "1"), (31, "missing")]


def test_the_sparkline_breaks_at_missing_nights():
    svg = str(charts.sparkline([1, 2, None, 3, None, None, 0, 1]))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 1
    assert "gaps are nights not logged" in svg


def test_chart_text_is_escaped():
    start = date(2026, 10, 1)
    course = Course("u", "<script>x</script>", "statin", start, None)
    p = panel({start: 1}, [course])
    effects = figures.course_effects(p)
    svg = str(charts.timeline(figures.nightly(p, start, start + timedelta(days=3)), effects))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
