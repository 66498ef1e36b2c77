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


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_between_tasks_is_replaced_before_the_next_task_uses_it():
    BACKENDS.clear()
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        backend_pid.delay()
        deadline = time.monotonic() + 20
        while not BACKENDS and time.monotonic() < deadline:
            time.sleep(0.05)
        with connection.cursor() as cursor:  # as a PostgreSQL restart would
            cursor.execute("SELECT pg_terminate_backend(%s)", [BACKENDS[0]])
        backend_pid.delay()
        while len(BACKENDS) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(BACKENDS) == 2 and BACKENDS[1] != BACKENDS[0]  # the health check reconnected; the task ran
