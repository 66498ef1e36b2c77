"""Rate limits in the shared cache (Redis whenever REDIS_URL is set): fixed-window counters,
and the client address every limit keys on.

allauth limits its own forms (login, sign-up, password reset; ACCOUNT_RATE_LIMITS) with
the same cache; this module serves the limits allauth doesn't know about (share codes and
invitations) and the one 429 answer both kinds return.
"""

import math
import time
from dataclasses import dataclass

from allauth.account.adapter import get_adapter
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.allauth_compat import rate_limit_windows


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


def hit(limit: Limit, who: str, now: float | None = None) -> int:
    """Count one attempt by `who`. 0 if it is allowed, else the seconds until the window
    resets (the Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // limit.seconds)
    key = f"ratelimit:{limit.name}:{who}:{window}"
    # add + incr are atomic in Redis, so concurrent requests cannot slip past the count.
    if cache.add(key, 1, timeout=limit.seconds + 60):
        used = 1
    else:
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=limit.seconds + 60)
            used = 1
    if used <= limit.count:
        return 0
    return max(1, math.ceil((window + 1) * limit.seconds - now))


def client_ip(request) -> str:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N the Nth address from the right of
    X-Forwarded-For (what the nearest trusted proxy saw). allauth's own rule, so its limits
    and ours count the same address."""
    return get_adapter(request).get_client_ip(request)


# allauth's actions behind each of its rate-limited pages, for the Retry-After of its 429s.
ALLAUTH_ACTIONS = {
    "account_login": ("login", "login_failed"),
    "account_signup": ("signup",),
    "account_reset_password": ("reset_password",),
    "account_reset_password_from_key": ("reset_password_from_key",),
    "token": ("login", "login_failed"),
}


def allauth_retry_after(request) -> int:
    """allauth does not say which of its limits refused a request, so answer with the longest
    window among the page's limits: by then every one of them has room again."""
    name = getattr(getattr(request, "resolver_match", None), "url_name", None) or ""
    actions = ALLAUTH_ACTIONS.get(name, ("login", "login_failed", "signup", "reset_password"))
    durations = [window for action in actions for window in rate_limit_windows(action)]
    return math.ceil(max(durations, default=60))


def too_many(request, retry_after: int, detail: str = "Too many requests; please try again later."):
    """The 429 answer: JSON under /api/, a page elsewhere; always with Retry-After."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail}, status=429)
    else:
        response = render(request, "429.html", {"detail": detail, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def handler429(request):
    """allauth's 429 handler (it looks for ROOT_URLCONF.handler429)."""
    return too_many(request, allauth_retry_after(request))
