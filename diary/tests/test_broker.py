"""The Celery app really talks to the Redis broker named by REDIS_URL."""

import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from cramptrack.celery import app


@app.task(name="diary.tests.remember")
def remember(key, value):
    redis.Redis.from_url(settings.REDIS_URL).set(key, value, ex=60)


@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_the_redis_broker():
    assert app.conf.broker_url.startswith("redis://")
    key = f"tests:broker:{uuid.uuid4()}"
    remember.delay(key, "41")  # queued in Redis before any worker exists
    store = redis.Redis.from_url(settings.REDIS_URL)
    assert store.get(key) is None
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        deadline = time.monotonic() + 20
        while store.get(key) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert store.get(key) == b"41"
