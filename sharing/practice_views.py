"""The clinician's practice pages under /clinician/practices/: open a practice, see its members,
and (admins) add, remove and promote them. The rules live in sharing.practices."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import practices
from .forms import MemberForm, PracticeForm
from .mfa import clinician_required


@require_http_methods(["GET", "POST"])
@clinician_required
def practice_list(request):
    """Your practices, and a form to open a new one (you become its admin)."""
    form = PracticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        practice = practices.create_practice(request.user, form.cleaned_data["name"])
        messages.success(request, f"{practice.name} is open. Add your colleagues below.")
        return redirect("clinician-practice", practice_id=practice.uuid)
    ctx = {"memberships": practices.memberships_of(request.user), "form": form}
    return render(request, "sharing/clinician/practices.html", ctx, status=400 if form.errors else 200)


def _page(request, practice_id, form=None, error=None, status=200):
    membership = practices.membership_or_404(request.user, practice_id)
    ctx = {
        "membership": membership,
        "practice": membership.practice,
        "members": practices.members(membership.practice),
        "form": form or MemberForm(),
        "error": error,
    }
    return render(request, "sharing/clinician/practice.html", ctx, status=status)


@require_http_methods(["GET"])
@clinician_required
def practice(request, practice_id):
    """Its members, to every member; the forms to manage them, to its admins."""
    return _page(request, practice_id)


@require_POST
@clinician_required
def add_member(request, practice_id):
    form = MemberForm(request.POST)
    if not form.is_valid():
        practices.admin_practice(request.user, practice_id)  # a 404 or 403 comes before a form error
        return _page(request, practice_id, form=form, status=400)
    try:
        membership = practices.add_member(request.user, practice_id, form.cleaned_data["email"])
    except practices.PracticeError as refused:
        form.add_error("email", str(refused))
        return _page(request, practice_id, form=form, status=400)
    messages.success(request, f"{membership.user.email} now sees the patients who share with the practice.")
    return redirect("clinician-practice", practice_id=practice_id)


@require_POST
@clinician_required
def remove_member(request, practice_id, member_id):
    try:
        membership = practices.remove_member(request.user, practice_id, member_id)
    except practices.PracticeError as refused:
        return _page(request, practice_id, error=str(refused), status=400)
    messages.success(request, f"{membership.user.email} no longer sees the practice's patients.")
    if membership.user_id == request.user.id:
        return redirect("clinician-practices")
    return redirect("clinician-practice", practice_id=practice_id)


@require_POST
@clinician_required
def make_admin(request, practice_id, member_id):
    membership = practices.make_admin(request.user, practice_id, member_id)
    messages.success(request, f"{membership.user.email} is now an admin of the practice.")
    return redirect("clinician-practice", practice_id=practice_id)
