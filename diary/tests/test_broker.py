"""The Celery app really talks to the Redis broker named by REDIS_URL."""

import pytest
from celery.contrib.testing.worker import start_worker

from cramptrack.celery import app


@app.task(name="diary.tests.echo", ignore_result=False)
def echo(value):
    return value


@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_the_redis_broker(settings):
    assert app.conf.broker_url.startswith("redis://")
    app.conf.update(result_backend=settings.REDIS_URL)
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
            assert echo.delay(41).get(timeout=20) == 41
    finally:
        app.conf.update(result_backend=None)
