"""The patient's sharing pages under /sharing/, and the invitation link a clinician opens.

Plain server-rendered forms (no scripts), so they work under the strict CSP and
without the PWA's modules. The API (sharing.api) offers the same actions.
"""

from functools import wraps

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import codes, emails, grants, limits, report
from .forms import AcceptForm, InviteForm, ShareForm
from .models import AccessLog, Grant, PracticeMembership


def retry_after(response, seconds: int):
    response["Retry-After"] = str(seconds)
    return response


LOG_ROWS = 200


def _patients_only(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_clinician:
            return redirect("clinician-dashboard")
        return view(request, *args, **kwargs)

    return wrapper


def shares_with_counts(patient):
    return (
        Grant.objects.filter(patient=patient)
        .select_related("patient__profile", "practice")
        .prefetch_related(
            Prefetch("practice__memberships", PracticeMembership.objects.select_related("user").order_by("user__email"))
        )
        .annotate(views=Count("access_log"), last_viewed_at=Max("access_log__at"))
        .order_by("-created_at")
    )


def email_verified(user) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def _page(request, invite_form=None, code_form=None, status=200, new_code=None):
    return render(
        request,
        "sharing/shares.html",
        {
            "shares": shares_with_counts(request.user),
            "log": AccessLog.objects.filter(patient=request.user).select_related("grant__practice")[:LOG_ROWS],
            "invite_form": invite_form or InviteForm(user=request.user, prefix="invite"),
            "code_form": code_form or ShareForm(user=request.user, prefix="code"),
            "email_verified": email_verified(request.user),
            "new_code": new_code,
        },
        status=status,
    )


@require_GET
@never_cache
@_patients_only
def shares(request):
    """Everyone you share with (a practice with its current members), each share's status, and
    every time a clinician looked, by name."""
    return _page(request)


@require_POST
@_patients_only
def invite(request):
    form = InviteForm(request.POST, user=request.user, prefix="invite")
    if not form.is_valid():
        return _page(request, invite_form=form, status=400)
    if not email_verified(request.user):
        form.add_error(None, "Confirm your own email address first (we sent you a link when you signed up).")
        return _page(request, invite_form=form, status=403)
    if wait := limits.invitation_wait(request.user):
        form.add_error(None, "You have sent many invitations today. Try again tomorrow, or use a share code.")
        return retry_after(_page(request, invite_form=form, status=429), wait)
    grant, token = grants.create_invitation(request.user, form.cleaned_data["email"], form.scope(), form.expires_at())
    emails.send_invitation(grant, token)
    messages.success(request, f"Invitation sent to {grant.invited_email}. The link works for 7 days.")
    return redirect("sharing")


@require_POST
@never_cache
@_patients_only
def new_code(request):
    form = ShareForm(request.POST, user=request.user, prefix="code")
    if not form.is_valid():
        return _page(request, code_form=form, status=400)
    if wait := limits.new_code_wait(request.user):
        form.add_error(None, "You have made many codes today. Try again tomorrow.")
        return retry_after(_page(request, code_form=form, status=429), wait)
    grant, code = grants.create_code(request.user, form.scope(), form.expires_at())
    # Shown once, on this response only: only its hash is stored.
    return _page(request, new_code={"code": codes.display_code(code), "grant": grant}, status=201)


@require_POST
@_patients_only
def revoke(request, share_id):
    grant = get_object_or_404(Grant, patient=request.user, uuid=share_id)
    if grants.revoke(grant):
        who = f"Every member of {grant.practice_name}" if grant.practice_name else "The clinician"
        messages.success(request, f"Sharing stopped. {who} loses access on their next click.")
    return redirect("sharing")


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def accept(request, token):
    """The emailed link: the clinician logs in (or signs up) and accepts."""
    offer = grants.invitation_for(token)
    form = AcceptForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "sharing/accept.html", {"offer": offer, "form": form}, status=400)
        try:
            grant = grants.accept_invitation(token, request.user, form.chosen_practice())
        except grants.OfferError as refused:
            ctx = {"offer": offer, "form": form, "error": str(refused)}
            return render(request, "sharing/accept.html", ctx, status=400)
        messages.success(request, grants.accepted_message(grant))
        return redirect("clinician-patient", share_id=grant.uuid)
    error = None
    if offer is None:
        error = grants.INVALID_INVITATION
    elif not request.user.is_clinician:
        error = "Only clinician accounts can accept a shared diary. Sign up for a clinician account with this address."
    elif offer.invited_email.lower() != request.user.email.lower():
        error = f"This invitation was sent to {offer.invited_email}. Log in with that address to accept it."
    ctx = {"offer": offer, "form": form, "error": error}
    return render(request, "sharing/accept.html", ctx, status=400 if error else 200)


@require_GET
@_patients_only
def own_report_pdf(request):
    """The patient's own one-page report for their doctor: the clinician's report, everything included."""
    form, ctx = report.context_from_query(report.own_view(request.user), request.GET)
    if ctx is None:
        return HttpResponse("; ".join(str(e) for errors in form.errors.values() for e in errors), status=400)
    response = HttpResponse(report.pdf(ctx), content_type="application/pdf")
    filename = f"cramptrack-report-{ctx['range'].first.isoformat()}-to-{ctx['range'].last.isoformat()}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # health data: no shared caches, no history copies
    return response
