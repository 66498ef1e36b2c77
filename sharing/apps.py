from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing with clinicians"

    def ready(self):
        from . import mfa, retention  # noqa: F401  (connect the TOTP-activation and account-erasure receivers)
