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
    assert baseline.source == figures.BEFORE_RANGE and baseline.rate == 1.0 and baseline.window.logged == 28
    assert [w.window.nights for w in weeks] == [7, 3]
    assert [w.ratio_to_baseline for w in weeks] == [2.0, 2.0]


def test_a_rate_needs_70_percent_of_its_nights_logged():
    w = figures.Window
    day = TODAY
    assert w(day, day + timedelta(days=29), 21, 21, 10).shown_rate == 1.0  # 21 of 30: 70%
    assert w(day, day + timedelta(days=29), 20, 20, 10).shown_rate is None  # 20 of 30
    assert w(day, day + timedelta(days=6), 5, 5, 3).enough and not w(day, day + timedelta(days=6), 4, 4, 3).enough
    assert figures.too_few(w(day, day + timedelta(days=29), 3, 3, 3)) == "logged 3 of 30 nights: too few for a rate"


def test_the_baseline_falls_back_to_the_start_of_a_long_range_when_the_nights_before_were_not_logged():
    first = date(2026, 8, 1)
    nights = {first - timedelta(days=i): 0 for i in range(1, 29, 2)}  # 14 of the 28 nights before: too few
    nights.update({first + timedelta(days=i): 1 for i in range(28)})  # the range's first 4 weeks: 1 a night
    nights.update({first + timedelta(days=i): 3 for i in range(28, 91)})  # then 3 a night
    p = panel(nights)
    weeks, base = figures.weeks_against_baseline(p, first, first + timedelta(days=90))
    assert base.source == figures.START_OF_RANGE and base.rate == 1.0
    assert [w.ratio_to_baseline for w in weeks][:5] == [1.0, 1.0, 1.0, 1.0, 3.0]
    assert "the first 28 nights of the range" in figures.headline(p, first, first + timedelta(days=90)).detail

    # A range too short to take 28 nights from both ends has no baseline, and no "× baseline".
    weeks, base = figures.weeks_against_baseline(p, first, first + timedelta(days=41))
    assert base.source == "" and base.rate is None and all(w.ratio_to_baseline is None for w in weeks)
    assert base.words == "none (only 14 of the 28 nights before 1 Aug 2026 were logged)"


def test_the_headline_withholds_what_the_logged_nights_cannot_support():
    last = TODAY - timedelta(days=1)
    first = last - timedelta(days=89)

    def words(nights):
        return figures.headline(panel(nights), first, last).words

    steady = {last - timedelta(days=i): int(i % 7 < 2) for i in range(200)}  # 2 cramp nights a week
    rising = {**steady, **{last - timedelta(days=i): int(i % 7 < 3) for i in range(28)}}
    assert words(rising) == "Cramp nights: 3.0 a week now vs 2.0 at baseline, +50%"
    falling = {**steady, **{last - timedelta(days=i): int(i % 7 < 1) for i in range(28)}}
    assert words(falling) == "Cramp nights: 1.0 a week now vs 2.0 at baseline, −50%"
    free_before = {**rising, **{last - timedelta(days=i): 0 for i in range(90, 118)}}
    assert words(free_before) == "Cramp nights: 3.0 a week now vs none at baseline"
    recent_only = {last - timedelta(days=i): 1 for i in range(28)}
    assert words(recent_only) == "Cramp nights: 7.0 a week now; no baseline to compare with"
    sparse = {**steady, **{last - timedelta(days=i): None for i in range(28) if i % 4}}
    assert words(sparse) == "Cramp nights a week: logged 7 of 28 nights: too few for a rate"


def test_the_weekly_chart_marks_medicine_starts_and_greys_weeks_with_too_few_nights():
    first = date(2026, 9, 7)
    nights = {first + timedelta(days=i): 1 for i in range(14)}
    nights.update({first + timedelta(days=14): 2})  # the third week: 1 of 7 nights logged
    p = panel(nights)
    weeks, base = figures.weeks_against_baseline(p, first, first + timedelta(days=20))
    statin = Course("u", "Atorvastatin", "statin", first + timedelta(days=10), None)
    svg = str(charts.weekly_bars(weeks, base.rate, [statin]))
    assert "Atorvastatin started 17 Sep 2026" in svg
    assert "Week of 21 Sep: logged 1 of 7 nights: too few for a rate" in svg
    assert "Atorvastatin" not in str(charts.weekly_bars(weeks, base.rate))


def test_before_and_after_a_start_use_the_medicine_start_findings_windows():
    # R06 compares the 56 nights before a start with the nights after it, up to 56 (90 for diuretics).
    start = date(2026, 8, 1)
    nights = {start - timedelta(days=i): 1 for i in range(1, 57)}
    nights.update({start + timedelta(days=i): 3 for i in range(1, 100)})
    statin = Course("u", "Atorvastatin", "statin", start, None)
    diuretic = Course("d", "Bendroflumethiazide", "thiazide_diuretic", start, None)
    effect, slower = figures.course_effects(panel(nights, [statin, diuretic]))
    assert (effect.before.first, effect.before.last) == (start - timedelta(days=56), start - timedelta(days=1))
    assert (effect.after.first, effect.after.last) == (start + timedelta(days=1), start + timedelta(days=56))
    assert effect.before.rate == 1.0 and effect.after.rate == 3.0 and effect.ratio == 3.0
    assert slower.after.last == start + timedelta(days=90)


def test_a_before_or_after_window_with_too_few_nights_logged_gives_no_ratio():
    start = date(2026, 8, 1)
    nights = {start - timedelta(days=i): 1 for i in range(1, 57, 3)}  # 19 of 56 nights logged
    nights.update({start + timedelta(days=i): 3 for i in range(1, 57)})
    [effect] = figures.course_effects(panel(nights, [Course("u", "Atorvastatin", "statin", start, None)]))
    assert effect.before.rate == 1.0 and not effect.before.enough and effect.ratio is None


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
