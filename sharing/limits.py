"""Fixed-window rate limits in the shared cache (Redis in production and tests).

Used for share-code attempts (per user and per IP address, so neither many
accounts nor many addresses get far) and for sending invitations.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


CODE_ATTEMPTS_PER_USER = Limit("code-user", 10, 3600)
CODE_ATTEMPTS_PER_IP = Limit("code-ip", 20, 3600)
INVITATIONS_PER_PATIENT = Limit("invite", 10, 24 * 3600)
CODES_PER_PATIENT = Limit("new-code", 20, 24 * 3600)


def hit(limit: Limit, who: str) -> bool:
    """Count one attempt; False once `who` has used up the window's allowance."""
    window = int(time.time() // limit.seconds)
    key = f"sharing:limit:{limit.name}:{who}:{window}"
    if cache.add(key, 1, timeout=limit.seconds + 60):
        return True
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.seconds + 60)
        used = 1
    return used <= limit.count


def client_ip(request) -> str:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client says it is.
    # Behind a proxy, set it from the proxy's header in the proxy or middleware.
    return request.META.get("REMOTE_ADDR", "unknown")


def code_attempt_allowed(request) -> bool:
    """Each try at a share code counts against both the account and the address."""
    per_user = hit(CODE_ATTEMPTS_PER_USER, f"u{request.user.pk}")
    per_ip = hit(CODE_ATTEMPTS_PER_IP, client_ip(request))
    return per_user and per_ip


def invitation_allowed(user) -> bool:
    return hit(INVITATIONS_PER_PATIENT, f"u{user.pk}")


def new_code_allowed(user) -> bool:
    return hit(CODES_PER_PATIENT, f"u{user.pk}")
