from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing with clinicians"

    def ready(self):
        from . import mfa  # noqa: F401  (connects the TOTP-activation receiver)
