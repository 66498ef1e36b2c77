"""A worker keeps its PostgreSQL connection from one task to the next, as a web process does."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from cramptrack.celery import app

BACKENDS: list[int] = []


@app.task(name="cramptrack.tests.backend_pid")
def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        BACKENDS.append(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_consecutive_tasks_share_one_database_connection():
    BACKENDS.clear()
    for _ in range(3):
        backend_pid.delay()
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        deadline = time.monotonic() + 20
        while len(BACKENDS) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(BACKENDS) == 3
    assert len(set(BACKENDS)) == 1  # Celery's default would be a new backend per task
