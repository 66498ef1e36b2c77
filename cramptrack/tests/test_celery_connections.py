"""Workers keep their database connection between tasks, under the rules of a web request (cramptrack.celery)."""

import time

import pytest
from celery.signals import task_postrun, task_prerun
from django.db import connection

from cramptrack.celery import app
from insights.tasks import analyse_chunk

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def postgres():
    # The suite runs on PostgreSQL with CONN_MAX_AGE, as production does; anything else is a broken setup.
    assert connection.vendor == "postgresql" and connection.settings_dict["CONN_MAX_AGE"]


def test_celery_does_not_close_connections_around_each_task():
    assert app.conf.get("CELERY_DB_REUSE_MAX")  # otherwise Celery's Django fixup closes them before and after


def test_a_task_keeps_the_connection_of_the_previous_one(postgres):
    pid = backend_pid()
    task_postrun.send(sender=analyse_chunk, task=analyse_chunk)
    task_prerun.send(sender=analyse_chunk, task=analyse_chunk)
    assert backend_pid() == pid


def test_a_connection_past_conn_max_age_is_replaced_between_tasks(postgres):
    pid = backend_pid()
    connection.close_at = time.monotonic() - 1
    task_postrun.send(sender=analyse_chunk, task=analyse_chunk)
    assert connection.connection is None
    assert backend_pid() != pid


def test_an_eager_task_leaves_its_callers_transaction_alone(postgres):
    pid = backend_pid()
    connection.close_at = time.monotonic() - 1  # would be closed, were the task not eager
    analyse_chunk.push_request(is_eager=True)
    try:
        task_postrun.send(sender=analyse_chunk, task=analyse_chunk)
    finally:
        analyse_chunk.pop_request()
    assert connection.connection is not None
    assert backend_pid() == pid
