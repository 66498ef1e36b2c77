"""Locust load for the reliability battery (bench/reliability.py starts it; see bench/RELIABILITY.md).

Each simulated phone has its own patient and API token. It logs cramps (POST
/api/v1/episodes/ with a client uuid, as the PWA does), now and then reads
its diary and syncs a small offline batch. Like the PWA's outbox, a create that
is not acknowledged is retried with the same uuid until it is: so after a
fault every intended episode must be stored exactly once, and the uuids the
server acknowledged are written to RELIABILITY_ACK_FILE for the conservation check.

Environment: RELIABILITY_TOKENS_FILE (one token per line), RELIABILITY_ACK_FILE,
RELIABILITY_USER_RATE (tasks per second per user; 0 = closed loop, no wait).
"""

import itertools
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from locust import HttpUser, constant, constant_throughput, events, task

TOKENS = Path(os.environ["RELIABILITY_TOKENS_FILE"]).read_text().split()
ACK_FILE = Path(os.environ["RELIABILITY_ACK_FILE"])
RATE = float(os.environ.get("RELIABILITY_USER_RATE", "0"))
RETRY_PAUSE = 0.5
RETRY_FOR = 120.0  # seconds; longer than any outage the battery stages

_next_token = itertools.count()
ACKNOWLEDGED: set[str] = set()
PENDING: set[str] = set()  # sent, not (yet) acknowledged when the run ended: may or may not be stored


def episode_body(offset_minutes: int = 0) -> dict:
    started = datetime.now(UTC) - timedelta(minutes=30 + offset_minutes)
    return {"id": str(uuid.uuid4()), "started_at": started.isoformat(), "muscle": "calf", "side": "left", "severity": 5}


class Phone(HttpUser):
    wait_time = constant_throughput(RATE) if RATE else constant(0)

    def on_start(self):
        token = TOKENS[next(_next_token) % len(TOKENS)]
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    @task(16)
    def log_a_cramp(self):
        self._deliver(
            "/api/v1/episodes/", "POST /api/v1/episodes/", episode_body(), lambda r: r.status_code in (200, 201)
        )

    @task(2)
    def read_the_diary(self):
        with self.client.get(
            "/api/v1/episodes/?page_size=20", headers=self.headers, name="GET /api/v1/episodes/", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task(1)
    def sync_offline_batch(self):
        records = [{"type": "episode", "data": episode_body(offset_minutes=n)} for n in range(10)]

        def all_stored(response) -> bool:
            if response.status_code != 200:
                return False
            return {r["status"] for r in response.json()["results"]} <= {"created", "unchanged"}

        self._deliver("/api/v1/sync/", "POST /api/v1/sync/ x10", {"records": records}, all_stored)

    def _deliver(self, path: str, name: str, body: dict, acknowledged) -> None:
        ids = [body["id"]] if "id" in body else [r["data"]["id"] for r in body["records"]]
        deadline = time.monotonic() + RETRY_FOR
        PENDING.update(ids)
        while True:
            with self.client.post(path, json=body, headers=self.headers, name=name, catch_response=True) as response:
                if acknowledged(response):
                    response.success()
                    ACKNOWLEDGED.update(ids)
                    PENDING.difference_update(ids)
                    return
                response.failure(f"HTTP {response.status_code}")
            if time.monotonic() > deadline or self.environment.runner.state in ("stopping", "stopped"):
                return
            time.sleep(RETRY_PAUSE)  # gevent-patched: yields to the other users


@events.quitting.add_listener
def write_acknowledged(environment, **kwargs):
    ACK_FILE.write_text("\n".join(sorted(ACKNOWLEDGED)) + "\n")
    ACK_FILE.with_suffix(".pending").write_text("\n".join(sorted(PENDING)) + "\n")
