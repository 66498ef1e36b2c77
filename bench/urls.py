"""The app's URLs plus the benchmark's baseline: a bare Django view doing one INSERT."""

import json
import os
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from cramptrack.urls import urlpatterns as app_urlpatterns
from diary.localtime import night_of
from diary.models import Episode

# The driver creates the bench user (time zone UTC) and passes its id to the server.
BENCH_USER_ID = int(os.environ.get("BENCH_USER_ID", "0"))
BENCH_USER_ZONE = ZoneInfo("UTC")


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    """The baseline: the same JSON body as an episode create, stored with exactly one INSERT.

    No authentication, no DRF, no validation, no idempotency check. bulk_create
    skips Episode.save(), which would look up the profile and update check-ins.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not BENCH_USER_ID:
        return JsonResponse({"detail": "BENCH_USER_ID is not set."}, status=500)
    body = json.loads(request.body)
    started_at = datetime.fromisoformat(body["started_at"])
    episode = Episode(
        uuid=uuid.UUID(body["id"]),
        user_id=BENCH_USER_ID,
        started_at=started_at,
        night=night_of(started_at, BENCH_USER_ZONE),
        muscle=body["muscle"],
        side=body["side"],
        severity=body["severity"],
    )
    Episode.objects.bulk_create([episode])
    return JsonResponse({"id": str(episode.uuid)}, status=201)


urlpatterns = [
    path("bench/bare-insert/", bare_insert, name="bench-bare-insert"),
    *app_urlpatterns,
]
