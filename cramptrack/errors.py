"""The 500 handler: a database (or Redis) outage becomes a fast 503 with Retry-After, never a bare 500.

Django calls handler500 inside its except block, so the failing exception is
at hand wherever it was raised (a view, the session middleware...). Every
write path is atomic, so a request cut short by the outage leaves nothing
half-written, and Django reconnects by itself once the database is back.
Redis is on no diary write path; where a page does need it (login rate limits
in the cache), its bounded socket timeouts end the wait and this answers 503.
"""

import logging
import sys

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.defaults import page_not_found

log = logging.getLogger(__name__)


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError | redis.RedisError):
        store = "cache" if isinstance(error, redis.RedisError) else "database"
        log.warning("%s unavailable: %s", store, type(error).__name__)
        response = JsonResponse({"detail": f"The {store} is unavailable; please try again shortly."}, status=503)
        response["Retry-After"] = "5"
        return response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    # No request context and no query: whatever broke (the session, a context processor) is not needed.
    return HttpResponseServerError(loader.get_template("500.html").render())


def not_found(request, exception=None):
    """An /api/ address that matches no route answers JSON like every other API error."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
