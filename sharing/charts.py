"""Server-rendered SVG charts: no JavaScript, nothing inline for the CSP to refuse.

Colours are SVG presentation attributes (allowed under style-src 'self', and
understood by WeasyPrint), so the same markup serves the page, the print view
and the PDF. Missing nights are drawn as gaps or grey ticks, never as zeros.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from insights.panel import Course

from .figures import CourseEffect, Week, too_few

INK = "#1d2733"
MUTED = "#8a97a5"
CRAMP = "#1565c0"
FREE = "#2e7d32"
MISSING = "#cfd6de"
COURSE = "#a35f00"
BASELINE = "#c62828"


def _svg(width: float, height: float, body: list[str], label: str, css_class: str) -> SafeString:
    return mark_safe(  # noqa: S308 (every interpolated text below goes through escape())
        f'<svg class="{css_class}" viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def sparkline(series: list[int | None], width: int = 120, height: int = 28) -> SafeString:
    """Cramps per night as a polyline, broken wherever a night is missing."""
    n = len(series)
    top = max([v for v in series if v is not None] or [1]) or 1
    step = width / max(n - 1, 1)

    def point(i: int, v: int) -> tuple[float, float]:
        return i * step, height - 2 - (height - 4) * v / top

    body, run = [], []
    for i, value in enumerate([*series, None]):
        if value is not None:
            run.append(point(i, value))
            continue
        if len(run) == 1:
            body.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="1.2" fill="{CRAMP}"/>')
        elif run:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            body.append(f'<polyline points="{points}" fill="none" stroke="{CRAMP}" stroke-width="1.2"/>')
        run = []
    logged = sum(v is not None for v in series)
    label = f"Cramps per night over {n} nights, {logged} logged; gaps are nights not logged"
    return _svg(width, height, body, label, "sparkline")


def timeline(
    series: list[tuple[date, int | None]],
    courses: Sequence[CourseEffect] = (),
    width: int = 960,
    bar_height: int = 120,
) -> SafeString:
    """Bars per night, grey ticks for missing nights, and a lane per medication course."""
    n = len(series)
    if not n:
        return _svg(width, 20, [], "No nights in this range", "timeline")
    left, right = 28, 8
    plot_w = width - left - right
    step = plot_w / n
    top = max([v for _, v in series if v is not None] or [1]) or 1
    lane_h = 30
    height = bar_height + 24 + lane_h * len(courses)
    base_y = bar_height
    first, last = series[0][0], series[-1][0]
    body = [
        f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" stroke="{MUTED}" stroke-width="0.5"/>',
        f'<text x="{left - 4}" y="10" font-size="10" text-anchor="end" fill="{MUTED}">{top}</text>',
        f'<text x="{left - 4}" y="{base_y}" font-size="10" text-anchor="end" fill="{MUTED}">0</text>',
    ]
    for i, (night, value) in enumerate(series):
        x = left + i * step
        w = max(step - 0.6, 0.6)
        tip = f"{night:%a} {_day(night)}: " + ("not logged" if value is None else f"{value} cramp{'s' * (value != 1)}")
        if value is None:
            body.append(
                f'<rect x="{x:.1f}" y="{base_y + 2}" width="{w:.1f}" height="4" fill="{MISSING}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        elif value == 0:
            body.append(
                f'<rect x="{x:.1f}" y="{base_y - 2}" width="{w:.1f}" height="2" fill="{FREE}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        else:
            h = (bar_height - 14) * value / top
            body.append(
                f'<rect x="{x:.1f}" y="{base_y - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{CRAMP}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        if night.day == 1 or i == 0:
            body.append(
                f'<text x="{x:.1f}" y="{base_y + 18}" font-size="10" fill="{INK}">{_day(night)}</text>'
                f'<line x1="{x:.1f}" y1="{base_y}" x2="{x:.1f}" y2="{base_y + 8}" stroke="{MUTED}" stroke-width="0.5"/>'
            )

    def x_of(day: date) -> float:
        return left + (day - first).days * step

    for lane, effect in enumerate(courses):
        course = effect.course
        y = base_y + 26 + lane * lane_h
        start = max(course.started_on, first)
        stop = min(course.stopped_on or last, last)
        if start <= last and stop >= first:
            span = max(x_of(stop + timedelta(days=1)) - x_of(start), 1)
            body.append(
                f'<rect x="{x_of(start):.1f}" y="{y}" width="{span:.1f}" height="6" rx="3" '
                f'fill="{COURSE}" opacity="0.8"/>'
            )
        if first <= course.started_on <= last:
            sx = x_of(course.started_on)
            body.append(
                f'<line x1="{sx:.1f}" y1="0" x2="{sx:.1f}" y2="{y + 6}" stroke="{COURSE}" stroke-width="1" '
                f'stroke-dasharray="3 2"/>'
            )
        text = f"{course.name} from {_day(course.started_on)} {course.started_on:%Y}: {_rate_words(effect)}"
        body.append(f'<text x="{left}" y="{y + 18}" font-size="10" fill="{INK}">{escape(text)}</text>')
    label = f"Cramps per night from {first:%d %b %Y} to {last:%d %b %Y}, with medication courses"
    return _svg(width, height, body, label, "timeline")


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def _rate(window) -> str:
    if window.nights == 0:
        return "no nights yet"
    return too_few(window) if not window.enough else f"{window.rate:.2f}/night ({window.logged} logged)"


def _rate_words(effect: CourseEffect) -> str:
    return f"before {_rate(effect.before)} → after {_rate(effect.after)}"


def weekly_bars(
    weeks: list[Week], baseline_rate: float | None, starts: Sequence[Course] = (), width: int = 680, height: int = 120
) -> SafeString:
    """Cramps per logged night for each week, with the baseline rate as a dashed line and a mark at each
    medicine start (pass `starts` only when the grant shares medications). A week with too few nights
    logged (figures.MIN_COMPLETENESS) gets a grey tick, not a bar."""
    if not weeks:
        return _svg(width, 20, [], "No weeks in this range", "weekly")
    left, bottom, top_pad = 30, 16, 14
    plot_h = height - bottom - top_pad
    rates = [rate for w in weeks if (rate := w.window.shown_rate) is not None]
    top = max([*rates, baseline_rate or 0, 0.5])
    step = (width - left - 4) / len(weeks)
    label_every = max(1, -(-len(weeks) // 14))  # at most 14 date labels
    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 4}" y2="{top_pad + plot_h}" stroke="{MUTED}" '
        f'stroke-width="0.5"/>',
        f'<text x="{left - 4}" y="{top_pad + 6}" font-size="9" text-anchor="end" fill="{MUTED}">{top:.1f}</text>',
        f'<text x="{left - 4}" y="{top_pad + plot_h}" font-size="9" text-anchor="end" fill="{MUTED}">0</text>',
        f'<text x="{left}" y="9" font-size="9" fill="{MUTED}">cramps per logged night</text>',
    ]
    for i, week in enumerate(weeks):
        x = left + i * step + 2
        w = max(step - 4, 1)
        rate = week.window.shown_rate
        tip = f"Week of {_day(week.window.first)}: " + (
            too_few(week.window)
            if rate is None
            else f"{week.window.cramps} cramps on {week.window.logged} logged nights ({rate:.2f}/night)"
        )
        if rate is None:
            body.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - 3}" width="{w:.1f}" height="3" fill="{MISSING}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        else:
            h = plot_h * rate / top
            body.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{w:.1f}" height="{max(h, 0.5):.1f}" '
                f'fill="{CRAMP}"><title>{escape(tip)}</title></rect>'
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{height - 4}" font-size="8" text-anchor="middle" '
                f'fill="{INK}">{_day(week.window.first)}</text>'
            )
    first = weeks[0].window.first
    for course in starts:
        # Each week is a slot of width `step`; a start sits at its night's place within its week.
        x = left + step * (course.started_on - first).days / 7
        body.append(
            f'<line x1="{x:.1f}" y1="{top_pad}" x2="{x:.1f}" y2="{top_pad + plot_h}" stroke="{COURSE}" '
            f'stroke-width="1.2" stroke-dasharray="3 2"><title>{escape(_start_words(course))}</title></line>'
            f'<text x="{x + 2:.1f}" y="{top_pad + 8}" font-size="8" fill="{COURSE}">{escape(course.name)}</text>'
        )
    if baseline_rate is not None:
        y = top_pad + plot_h - plot_h * baseline_rate / top
        # The label sits in the strip above the bars, so no bar can hide it.
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="{BASELINE}" stroke-width="1" '
            f'stroke-dasharray="4 3"/>'
            f'<line x1="{width - 150}" y1="6" x2="{width - 132}" y2="6" stroke="{BASELINE}" stroke-width="1" '
            f'stroke-dasharray="4 3"/>'
            f'<text x="{width - 128}" y="9" font-size="9" fill="{BASELINE}">baseline {baseline_rate:.2f}/night</text>'
        )
    label = "Cramps per logged night by week, against the baseline"
    if starts:
        label += "; " + "; ".join(_start_words(course) for course in starts)
    return _svg(width, height, body, label, "weekly")


def _start_words(course: Course) -> str:
    return f"{course.name} started {_day(course.started_on)} {course.started_on:%Y}"
