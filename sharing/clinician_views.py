"""The clinician's pages under /clinician/: dashboard, patient page, report (HTML and PDF), exports,
and the public page of the FHIR export's own code system.

Every view of patient data: GET only (a clinician never writes patient data), a clinician with
TOTP used in this session (sharing.mfa), then the one access check
(sharing.access.grant_or_404), then the work, then the access-log row.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from diary.models import CheckIn, Episode, MedicationCourse
from insights.panel import load_panels

from . import access, alerts, charts, export, fhir, figures, grants, limits, report
from .dashboard import profile_facts, summaries
from .forms import EpisodeFilterForm, RedeemForm
from .mfa import clinician_required
from .models import AccessLog
from .shared_findings import findings_for

What = AccessLog.What
PAGE_RANGES = (30, 90, 180, 365)
TABLE_ROWS = 100


@require_GET
@clinician_required
def dashboard(request):
    grants_ = access.active_grants(request.user)
    rows = summaries(grants_)
    access.record_views(grants_, request.user, What.DASHBOARD)
    ctx = {"rows": rows, "redeem_form": RedeemForm(user=request.user), "min_completeness": figures.MIN_COMPLETENESS}
    return render(request, "sharing/clinician/dashboard.html", ctx)


@require_http_methods(["GET", "POST"])
@clinician_required
def redeem(request):
    """Type a patient's share code, for oneself or for a practice; accepting it is the only
    patient-facing thing a clinician ever posts."""
    form = RedeemForm(request.POST or None, user=request.user)
    status, wait = 200, 0
    if request.method == "POST" and form.is_valid():
        if wait := limits.code_attempt_wait(request):
            form.add_error("code", "Too many tries. Wait an hour, or ask your patient for an email invitation.")
            status = 429
        else:
            try:
                grant = grants.redeem_code(form.cleaned_data["code"], request.user, form.chosen_practice())
            except grants.OfferError as error:
                form.add_error("code", str(error))
                status = 400
            else:
                messages.success(request, grants.accepted_message(grant))
                return redirect("clinician-patient", share_id=grant.uuid)
    elif request.method == "POST":
        status = 400
    response = render(request, "sharing/clinician/redeem.html", {"form": form}, status=status)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@require_GET
@clinician_required
def patient(request, share_id):
    grant = access.grant_or_404(request.user, share_id)
    days = _choice(request.GET.get("days"), PAGE_RANGES, 90)
    panel = load_panels([grant.patient_id])[0]
    end = figures.last_night(panel)
    start = end - timedelta(days=days - 1)
    ctx = {"grant": grant, "patient": profile_facts(grant), "days": days, "ranges": PAGE_RANGES, "first": start}
    ctx.update(last=end, **figures.window_terms())

    effects = []
    if grant.medications:
        courses = MedicationCourse.objects.filter(user_id=grant.patient_id).prefetch_related("dose_changes")
        ctx["courses"] = courses
        effects = [
            e for e in figures.course_effects(panel) if e.course.stopped_on is None or e.course.stopped_on >= start
        ]
        ctx["effects"] = effects
    if grant.episodes_checkins:
        series = figures.nightly(panel, start, end)
        ctx["window"] = figures.window(panel, start, end)
        ctx["headline"] = figures.headline(panel, start, end)
        ctx["recent"], ctx["previous"] = figures.recent_and_previous(panel)
        ctx["timeline"] = charts.timeline(series, effects)
        ctx["calendar"] = figures.calendar_months(series)
        ctx["severity"] = figures.severity(panel, start, end)
        form = EpisodeFilterForm(request.GET or None)
        episodes = Episode.objects.filter(user_id=grant.patient_id).order_by("-started_at")
        if form.is_bound and form.is_valid():
            episodes = form.apply(episodes)
        ctx["filter_form"] = form
        ctx["episode_count"] = episodes.count()
        ctx["episodes"] = list(episodes[:TABLE_ROWS])
        ctx["checkins"] = CheckIn.objects.filter(user_id=grant.patient_id, date__gte=start, date__lte=end).order_by(
            "-date"
        )
    if grant.insights:
        findings = findings_for(grant)
        ctx["alerts"] = alerts.for_patient(grant, findings, panel)
        ctx["findings"], ctx["waiting"] = report.finding_table(findings)
        ctx["analysed_at"] = report.last_analysis(grant.patient_id)
    access.record_view(grant, request.user, What.PATIENT_PAGE, detail=f"{days} nights")
    return render(request, "sharing/clinician/patient.html", ctx)


def _choice(value, allowed: tuple[int, ...], default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number in allowed else default


@require_GET
@clinician_required
def report_page(request, share_id):
    grant = access.grant_or_404(request.user, share_id)
    form, ctx = report.context_from_query(grant, request.GET)
    if ctx is None:
        return render(request, "sharing/clinician/report.html", {"grant": grant, "form": form}, status=400)
    access.record_view(grant, request.user, What.REPORT, detail=str(ctx["range"]))
    return render(request, "sharing/clinician/report.html", {**ctx, "form": form})


@require_GET
@clinician_required
def report_pdf(request, share_id):
    grant = access.grant_or_404(request.user, share_id)
    form, ctx = report.context_from_query(grant, request.GET)
    if ctx is None:
        return HttpResponse("; ".join(str(e) for errors in form.errors.values() for e in errors), status=400)
    body = report.pdf(ctx)
    access.record_view(grant, request.user, What.REPORT_PDF, detail=str(ctx["range"]))
    return _attachment(body, "application/pdf", _filename(grant, "report", ctx["range"].last, "pdf"))


@require_GET
@clinician_required
def export_csv(request, share_id):
    grant = access.grant_or_404(request.user, share_id)
    body = export.csv_zip(grant)
    access.record_view(grant, request.user, What.EXPORT_CSV)
    return _attachment(body, "application/zip", _filename(grant, "diary", timezone.localdate(), "zip"))


@require_GET
@clinician_required
def export_fhir(request, share_id):
    grant = access.grant_or_404(request.user, share_id)
    body = fhir.bundle_bytes(grant)
    access.record_view(grant, request.user, What.EXPORT_FHIR)
    return _attachment(body, "application/fhir+json", _filename(grant, "fhir", timezone.localdate(), "json"))


@require_GET
def fhir_code_system(request):
    """What the FHIR export's own codes mean. Public: it holds no patient data."""
    return JsonResponse(fhir.code_system(), content_type="application/fhir+json")


def _filename(grant, what: str, day: date, extension: str) -> str:
    return f"cramptrack-{what}-{str(grant.uuid)[:8]}-{day.isoformat()}.{extension}"


def _attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Patient data: no shared caches, no browser history copies.
    response["Cache-Control"] = "no-store"
    return response
