"""Redis (cache and broker) stopped or hung: episodes are still logged, at once, and the
analysis they make due is caught up once Redis is back.

gunicorn, a Celery worker and its beat run as real processes against a private
redis-server that the test stops, restarts empty and freezes with SIGSTOP.
"""

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from diary.models import Episode, Profile
from insights.models import AnalysisState

from .private_services import CeleryWorker, Gunicorn, app_env, current_database_url, wait_until

pytestmark = pytest.mark.servers

# Far above a healthy create (tens of ms) and far below a hang (gunicorn's 60 s timeout):
# the bound proves that no request waits for Redis, not how fast it is (that is bench/).
BOUND_SECONDS = 5.0
HANG_SECONDS = 15.0


def post_json(url: str, body: dict, headers: dict) -> tuple[int, float]:
    request = urllib.request.Request(  # noqa: S310
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def get_status(url: str) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def episode(minutes_ago: int) -> dict:
    started = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"id": str(uuid.uuid4()), "started_at": started.isoformat(), "muscle": "calf", "side": "left"}


@pytest.fixture
def stack(transactional_db, private_redis, tmp_path):
    """gunicorn + worker + beat (2 s analysis tick), all on the private Redis and the test database."""
    env = app_env(current_database_url(), private_redis.url(0), CONN_MAX_AGE="0", ANALYSIS_TICK_SECONDS="2")
    web = Gunicorn(env, tmp_path / "gunicorn.log")
    worker = CeleryWorker(env, tmp_path / "worker.log", beat=True)
    web.start()
    try:
        worker.start()
        yield web, worker
    finally:  # also when the worker never started
        worker.stop()
        web.stop()


def session_headers(user) -> dict:
    """The PWA's way in: a database session cookie and a CSRF token (any 32 allowed characters)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = "r" * 32
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}


def test_episodes_are_logged_with_redis_down_or_hung_and_analysed_after_recovery(stack, private_redis, alice):
    web, worker = stack
    _, token = AuthToken.objects.create(alice)
    doors = {"token": {"Authorization": f"Token {token}"}, "session": session_headers(alice)}
    url = f"{web.url}/api/v1/episodes/"
    acknowledged = 0

    def log_episodes(count: int, phase: str) -> None:
        nonlocal acknowledged
        for index in range(count):
            door = "token" if index % 2 == 0 else "session"
            status, seconds = post_json(url, episode(minutes_ago=10 + acknowledged), doors[door])
            assert status == 201, f"{phase}, {door}: HTTP {status}"
            assert seconds < BOUND_SECONDS, f"{phase}, {door}: {seconds:.1f} s"
            acknowledged += 1

    log_episodes(4, "Redis up")
    wait_until(lambda: analysed_after_last_change(alice.pk), 30, "the first analysis")

    private_redis.stop()
    log_episodes(10, "Redis stopped")
    status, seconds = get_status(f"{web.url}/healthz")
    assert status == 503 and seconds < BOUND_SECONDS  # health tells the truth, quickly

    private_redis.start()  # empty: whatever the broker held is gone, as after a crash without persistence
    private_redis.pause()
    hung_at = time.monotonic()
    log_episodes(10, "Redis hung (SIGSTOP)")
    # Hung for longer than any socket timeout: the worker must come back from it, not wedge.
    time.sleep(max(0.0, HANG_SECONDS - (time.monotonic() - hung_at)))
    log_episodes(2, "Redis still hung")
    status, seconds = get_status(f"{web.url}/healthz")
    assert status == 503 and seconds < BOUND_SECONDS
    assert not analysed_after_last_change(alice.pk)  # the work is owed, not done
    private_redis.resume()

    # Nothing lost: every acknowledged create is a row, and the planner catches the analysis up.
    assert Episode.objects.filter(user=alice).count() == acknowledged == 26
    wait_until(lambda: analysed_after_last_change(alice.pk), 90, "analysis after Redis came back", interval=0.5)
    assert get_status(f"{web.url}/healthz")[0] == 200


def analysed_after_last_change(user_id: int) -> bool:
    changed = Profile.objects.get(user_id=user_id).diary_changed_at
    state = AnalysisState.objects.filter(user_id=user_id).first()
    if state is None or state.analysed_at is None or changed is None:
        return False
    return changed <= state.analysed_at <= timezone.now()
