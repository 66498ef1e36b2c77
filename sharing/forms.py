"""Forms for the server-rendered sharing pages (the API has its serializers)."""

from django import forms

from diary import choices
from diary.safe_text import invisible_character

from . import grants, practices
from .models import SCOPES, Practice


class ShareForm(forms.Form):
    episodes_checkins = forms.BooleanField(required=False, initial=True, label="Cramps and morning check-ins")
    insights = forms.BooleanField(required=False, initial=True, label="Findings and red flags")
    medications = forms.BooleanField(required=False, initial=True, label="Medicines, supplements and therapies")
    notes = forms.BooleanField(required=False, initial=False, label="My free-text notes")
    last_day = forms.DateField(label="Access ends after", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        zone = user.profile.zone
        first, last = grants.last_day_bounds(zone)
        self.fields["last_day"].initial = grants.default_last_day(zone)
        self.fields["last_day"].widget.attrs.update(min=first.isoformat(), max=last.isoformat())
        self.bounds = (first, last)

    def clean_last_day(self):
        value = self.cleaned_data["last_day"]
        first, last = self.bounds
        if not first <= value <= last:
            raise forms.ValidationError(f"Choose a day from {first:%d %b %Y} to {last:%d %b %Y}.")
        return value

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in SCOPES):
            raise forms.ValidationError("Share at least one part of your diary.")
        return data

    def scope(self) -> dict:
        return {name: self.cleaned_data[name] for name in SCOPES}

    def expires_at(self):
        return grants.expiry_after(self.cleaned_data["last_day"], self.user.profile.zone)


class InviteForm(ShareForm):
    email = forms.EmailField(label="Your clinician's email address")

    field_order = ["email"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if email == self.user.email.lower():
            raise forms.ValidationError("Enter your clinician's address, not your own.")
        return email


class AcceptForm(forms.Form):
    """Whom a clinician accepts a share for: themself, or one of their practices (all its members read).
    The field appears only for a clinician who belongs to a practice."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.practices = {str(m.practice.uuid): m.practice for m in practices.memberships_of(user)}
        if self.practices:
            choices = [("", "Just me"), *((key, f"{p.name} (all its members)") for key, p in self.practices.items())]
            self.fields["practice"] = forms.ChoiceField(choices=choices, required=False, label="Who reads it")

    def chosen_practice(self) -> Practice | None:
        return self.practices.get(self.cleaned_data.get("practice") or "")


class RedeemForm(AcceptForm):
    code = forms.CharField(
        max_length=32,
        label="Share code",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    field_order = ["code", "practice"]


class PracticeForm(forms.Form):
    name = forms.CharField(max_length=120, label="Practice name", help_text="as your patients know it")

    def clean_name(self):
        # Patients see this name on their sharing page: it must read as it is stored.
        name = self.cleaned_data["name"]
        if found := invisible_character(name):
            raise forms.ValidationError(f"Contains an invisible character at position {found[0]}; type the name again.")
        return name


class MemberForm(forms.Form):
    email = forms.EmailField(label="Their email address", help_text="the address of their CrampTrack clinician account")


class EpisodeFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    muscle = forms.ChoiceField(required=False, choices=[("", "Any muscle"), *choices.Muscle.choices])
    side = forms.ChoiceField(required=False, choices=[("", "Either side"), *choices.Side.choices])
    min_severity = forms.IntegerField(required=False, min_value=0, max_value=10, label="Severity at least")

    def apply(self, episodes):
        data = self.cleaned_data
        if data.get("since"):
            episodes = episodes.filter(night__gte=data["since"])
        if data.get("until"):
            episodes = episodes.filter(night__lte=data["until"])
        if data.get("muscle"):
            episodes = episodes.filter(muscle=data["muscle"])
        if data.get("side"):
            episodes = episodes.filter(side=data["side"])
        if data.get("min_severity") is not None:
            episodes = episodes.filter(severity__gte=data["min_severity"])
        return episodes


RANGE_CHOICES = [(30, "30 nights"), (90, "90 nights"), (180, "6 months"), (365, "a year")]


class RangeForm(forms.Form):
    """A report's date range: nights from `since` to `until`, at most a year."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    MAX_NIGHTS = 366

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError("The start is after the end.")
            if (until - since).days + 1 > self.MAX_NIGHTS:
                raise forms.ValidationError("A report covers at most a year.")
        return data
