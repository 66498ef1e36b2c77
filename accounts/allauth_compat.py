"""The three allauth internals CrampTrack uses, each wrapped here and nowhere else.

allauth has no public API for them: reading its configured rate-limit windows (for a
429's Retry-After), recording a completed second factor in the session (setting up TOTP
counts as one), and creating a TOTP authenticator from a known key (the demo clinician's).
accounts/tests/test_allauth_compat.py calls each one, so an allauth upgrade that moves or
changes one fails there, naming it, rather than somewhere inside a login.
"""

import allauth

try:
    from allauth.account.internal.flows.login import record_authentication as _record_authentication
    from allauth.core.internal.ratelimit import get_rates as _get_rates
    from allauth.mfa.totp.internal.auth import TOTP as _TOTP
except ImportError as moved:
    raise ImportError(
        f"django-allauth {allauth.__version__} no longer has an internal that accounts/allauth_compat.py "
        f"wraps ({moved}); find its new home and update that module."
    ) from moved


def rate_limit_windows(action: str) -> list[float]:
    """The window, in seconds, of each of allauth's account rate limits (ACCOUNT_RATE_LIMITS) for
    `action` ("login", "login_failed", ...): "10/m/ip,5/5m/key" gives [60, 300]."""
    return [rate.duration for rate in _get_rates(app="allauth.account", action=action)]


def record_authentication(request, user, method: str, **extra) -> None:
    """Add a completed authentication step ("password", "mfa", ...) to the session's record,
    as allauth's own login steps do; allauth.account.authentication reads it back."""
    _record_authentication(request, user, method, **extra)


def activate_totp(user, secret: str):
    """Give `user` a TOTP authenticator for the base32 `secret`, stored as allauth's own set-up
    page stores it (through the MFA adapter's `encrypt`). Returns the Authenticator."""
    return _TOTP.activate(user, secret).instance
