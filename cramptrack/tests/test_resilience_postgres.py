"""PostgreSQL restarted under load: fast 503s during the outage, no half-written
request, and gunicorn serves again by itself once the database is back.

The database is a private cluster (initdb in a temporary directory) so that it
can be crashed; gunicorn runs against it with persistent connections
(CONN_MAX_AGE=60 and CONN_HEALTH_CHECKS, as in production).
"""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from .private_services import BIN, ROOT, Gunicorn, PrivatePostgres, app_env, migrate, wait_until

pytestmark = pytest.mark.servers

BOUND_SECONDS = 5.0  # a refused connection answers in milliseconds; a hang would take gunicorn's 60 s
BATCH = 50

MAKE_USER = """
from accounts.models import User
from knox.models import AuthToken
user = User.objects.create_user(email="pat@example.org", password="correct horse battery")
print(AuthToken.objects.create(user)[1])
"""


def call(method: str, url: str, token: str, body=None) -> tuple[int, dict, float]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}"), time.monotonic() - started
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            parsed = json.loads(payload) if payload else {}
        except ValueError:
            parsed = {"raw": payload[:200].decode(errors="replace")}
        return error.code, {**parsed, "retry_after": error.headers.get("Retry-After")}, time.monotonic() - started
    except (urllib.error.URLError, ConnectionError) as error:  # the server itself did not answer
        return 0, {"error": str(error)}, time.monotonic() - started


def episode(offset: int) -> dict:
    started = datetime.now(UTC) - timedelta(minutes=5 + offset)
    return {"id": str(uuid.uuid4()), "started_at": started.isoformat(), "muscle": "calf", "side": "right"}


@pytest.fixture
def cluster():
    pg = PrivatePostgres()
    pg.init()
    pg.start()
    yield pg
    pg.close()


@pytest.fixture
def served(cluster, tmp_path, settings):
    cluster.create_database()
    env = app_env(cluster.url(), settings.REDIS_URL, CONN_MAX_AGE="60")
    migrate(env)
    made = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", MAKE_USER],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    web = Gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=4)
    web.start()
    yield web, made.stdout.strip().splitlines()[-1]
    web.stop()


def stored_uuids(cluster) -> set[str]:
    with psycopg.connect(cluster.url(), connect_timeout=5) as conn:
        return {str(row[0]) for row in conn.execute("SELECT uuid FROM diary_episode")}


def test_a_postgres_restart_is_a_fast_503_leaves_nothing_half_written_and_heals_itself(cluster, served):
    web, token = served
    episodes_url, sync_url = f"{web.url}/api/v1/episodes/", f"{web.url}/api/v1/sync/"
    assert call("POST", episodes_url, token, episode(0))[0] == 201

    # A fast stop (open transactions rolled back, connections closed): each door answers 503 at once.
    cluster.stop("fast")
    for method, url, body in [("POST", episodes_url, episode(1)), ("GET", episodes_url, None)]:
        status, answer, seconds = call(method, url, token, body)
        assert status == 503 and answer["retry_after"] == "5", (method, status, answer)
        assert seconds < BOUND_SECONDS
    cluster.start()
    assert call("POST", episodes_url, token, episode(2))[0] == 201  # the same gunicorn, reconnected by itself

    # A crash (immediate stop) while two clients send batches of 50 episodes.
    batches: list[tuple[list[str], int, float]] = []
    answers: list[tuple[int, int]] = []  # (client offset, status), in the order they came
    last_status: dict[int, int] = {}
    stop = threading.Event()

    def client(offset: int):
        number = 0
        while not stop.is_set():
            records: list[dict[str, Any]] = [
                {"type": "episode", "data": episode(offset + number * BATCH + i)} for i in range(BATCH)
            ]
            status, answer, seconds = call("POST", sync_url, token, {"records": records})
            if status == 200 and {r["status"] for r in answer["results"]} != {"created"}:
                status = -1  # a 200 that did not create everything
            batches.append(([r["data"]["id"] for r in records], status, seconds))
            answers.append((offset, status))
            last_status[offset] = status
            number += 1

    def answered_since(start: int, status: int) -> set[int]:
        """The clients (by offset) that got `status` in an answer after the first `start` answers."""
        return {offset for offset, got in list(answers)[start:] if got == status}

    clients = [threading.Thread(target=client, args=(n * 100_000,)) for n in range(2)]
    for thread in clients:
        thread.start()
    try:
        wait_until(lambda: answered_since(0, 200) == {0, 100_000}, 30, "both clients storing batches")
        crashed_at = len(answers)
        cluster.stop("immediate")
        wait_until(lambda: answered_since(crashed_at, 503) == {0, 100_000}, 30, "both clients seeing the outage")
        restarted_at = len(answers)
        cluster.start()
        wait_until(lambda: answered_since(restarted_at, 200) == {0, 100_000}, 30, "both clients served again")
    finally:
        stop.set()
    for thread in clients:
        thread.join(timeout=60)

    statuses = [status for _, status, _ in batches]
    assert 503 in statuses, statuses  # the outage was seen
    assert set(statuses) <= {200, 503}, statuses  # never a 500, never a dropped connection
    assert set(last_status.values()) == {200}, last_status  # both clients served again after the restart
    assert max(seconds for _, status, seconds in batches if status == 503) < BOUND_SECONDS

    stored = stored_uuids(cluster)
    for ids, status, _ in batches:
        kept = len(stored.intersection(ids))
        if status == 200:
            assert kept == BATCH  # acknowledged means stored
        else:
            assert kept in (0, BATCH), f"a refused batch left {kept} of {BATCH} rows"  # all or nothing
    acknowledged = 2 + sum(BATCH for _, status, _ in batches if status == 200)
    assert len(stored) >= acknowledged
