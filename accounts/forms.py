"""Extra sign-up fields for allauth: the role a person signs up with."""

from django import forms

from .models import User


class SignupForm(forms.Form):
    role = forms.ChoiceField(
        choices=User.Role.choices,
        initial=User.Role.PATIENT,
        widget=forms.RadioSelect,
        label="I am a",
    )

    def signup(self, request, user):
        user.role = self.cleaned_data["role"]
        user.save(update_fields=["role"])
