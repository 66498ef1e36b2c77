"""The one-page report for a date range: counts per week against a baseline, nights logged,
severity, medication starts, findings and red flags; as HTML (printable) and as PDF.

The PDF is WeasyPrint rendering the same template with the same stylesheet, so
the browser's print and the download look alike.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from insights.catalogue import KEY_TITLES, RULES
from insights.models import AnalysisState, Finding
from insights.panel import load_panels

from . import alerts, charts, figures
from .dashboard import profile_facts
from .forms import RangeForm
from .models import Grant
from .shared_findings import findings_for

DEFAULT_NIGHTS = 91  # 13 weeks: "the last three months"
STYLESHEET = "sharing/report.css"


@dataclass(frozen=True)
class Range:
    first: date
    last: date

    @property
    def nights(self) -> int:
        return (self.last - self.first).days + 1

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def default_range(today: date) -> Range:
    last = today - timedelta(days=1)
    return Range(last - timedelta(days=DEFAULT_NIGHTS - 1), last)


def choose_range(since: date | None, until: date | None, today: date) -> Range:
    """Fill in what the clinician left out: an end of last night, a start 13 weeks earlier."""
    default = default_range(today)
    if until:
        last = until
    elif since:
        last = min(since + timedelta(days=DEFAULT_NIGHTS - 1), default.last)
    else:
        last = default.last
    first = since or last - timedelta(days=DEFAULT_NIGHTS - 1)
    if first > last:
        raise ValueError("The report would start after it ends.")
    return Range(first, last)


def week_rows(weeks: list, per_row: int = 13) -> list[list]:
    """The weekly table runs across the page; a short last row is padded so columns line up."""
    rows = [weeks[i : i + per_row] for i in range(0, len(weeks), per_row)]
    if len(rows) > 1:
        rows[-1] = rows[-1] + [None] * (per_row - len(rows[-1]))
    return rows


def finding_table(findings: list[Finding]) -> tuple[list[dict], list[dict]]:
    """The patient page's findings: reported red flags are left to the alerts above, and the rules
    still waiting for data are returned apart, to fold into one line."""
    shown = [f for f in findings if "flag" not in (f.counts or {})]
    insufficient = Finding.Status.INSUFFICIENT_DATA
    rows = finding_rows([f for f in shown if f.status != insufficient])
    return rows, finding_rows([f for f in shown if f.status == insufficient])


def finding_rows(findings: list[Finding]) -> list[dict]:
    return [
        {
            "finding": f,
            "title": KEY_TITLES.get(f.key) or (RULES[f.rule].title if f.rule in RULES else f.rule),
            "status": f.get_status_display(),
            "counts": f.counts or {},
        }
        for f in findings
    ]


def last_analysis(user_id: int) -> datetime | None:
    """When the diary's findings were last computed; None if never, when no finding means nothing."""
    return AnalysisState.objects.filter(user_id=user_id).values_list("analysed_at", flat=True).first()


def context(grant: Grant, since: date | None, until: date | None, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    panel = load_panels([grant.patient_id], now=now)[0]
    span = choose_range(since, until, panel.today)
    ctx: dict = {
        **figures.window_terms(),
        "grant": grant,
        "patient": profile_facts(grant),
        "range": span,
        "generated_at": now.astimezone(panel.zone),
        "zone": panel.zone,
        # On every report, so an empty findings section can never read as "nothing found".
        "analysed_at": last_analysis(grant.patient_id),
    }
    starts = figures.course_effects(panel, span.first, span.last) if grant.medications else []
    if grant.episodes_checkins:
        weeks, baseline = figures.weeks_against_baseline(panel, span.first, span.last)
        total = figures.window(panel, span.first, span.last)
        ctx.update(
            weeks=weeks,
            week_rows=week_rows(weeks),
            baseline=baseline,
            total=total,
            headline=figures.headline(panel, span.first, span.last),
            vs_baseline=total.shown_rate / baseline.rate if total.shown_rate is not None and baseline.rate else None,
            severity=figures.severity(panel, span.first, span.last),
            weekly_chart=charts.weekly_bars(weeks, baseline.rate, [e.course for e in starts]),
        )
    if grant.medications:
        ctx["starts"] = starts
        ctx["courses"] = [
            c
            for c in panel.courses
            if c.started_on <= span.last and (c.stopped_on is None or c.stopped_on >= span.first)
        ]
    if grant.insights:
        findings = findings_for(grant)
        ctx["alerts"] = alerts.for_patient(grant, findings, panel)
        ctx["current_alerts"] = [a for a in ctx["alerts"] if a.level]
        notable = (Finding.Status.POSSIBLE_PATTERN_HIGHER, Finding.Status.POSSIBLE_PATTERN_LOWER, Finding.Status.INFO)
        ctx["patterns"] = finding_rows([f for f in findings if f.status in notable])
        escalations = len(figures.red_flags(findings))
        ctx["quiet_findings"] = len(findings) - escalations - len(ctx["patterns"])
    return ctx


def own_view(patient) -> Grant:
    """The patient's own report: a grant that shares everything (their medicine names too).
    Never saved, so no clinician and no access-log row; findings_for keys it by its pk, None."""
    return Grant(patient=patient, episodes_checkins=True, insights=True, medications=True, notes=True)


def context_from_query(grant: Grant, query) -> tuple[RangeForm, dict | None]:
    """The report for `since`/`until` in a query string; None and the form's errors when they are bad."""
    form = RangeForm(query or None)
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    try:
        ctx = context(grant, data.get("since"), data.get("until"))
    except ValueError as error:
        form.add_error(None, str(error))
        return form, None
    ctx["own"] = grant.pk is None
    return form, ctx


def pdf(ctx: dict) -> bytes:
    from weasyprint import CSS, HTML  # imported late: it loads Pango, which only this view needs

    html = render_to_string("sharing/clinician/report_document.html", ctx)
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find(STYLESHEET))])
