"""GET /healthz: is the database reachable, is the cache/broker reachable, is a worker alive?"""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .tasks import HEARTBEAT_KEY

WORKER_STALE_AFTER = timedelta(minutes=3)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means "not reachable" to a health check
        return False


def worker_state() -> tuple[bool, str | None]:
    """(cache reachable, last heartbeat ISO time or None)."""
    try:
        return True, cache.get(HEARTBEAT_KEY)
    except Exception:
        return False, None


@never_cache
def healthz(request):
    database = database_ok()
    cache_up, beat = worker_state()
    worker = "unknown"
    if beat:
        age = timezone.now() - datetime.fromisoformat(beat)
        worker = "ok" if age <= WORKER_STALE_AFTER else "stale"
    body = {
        "database": "ok" if database else "down",
        "cache": "ok" if cache_up else "down",
        "worker": worker,
        "worker_heartbeat": beat,
    }
    # The web process can serve without a worker (work is caught up later), not without its stores.
    return JsonResponse(body, status=200 if database and cache_up else 503)
