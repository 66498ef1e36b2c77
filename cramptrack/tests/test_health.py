"""/healthz, the worker heartbeat, and a database outage answered with 503."""

from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from cramptrack.tasks import HEARTBEAT_KEY, heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_cache_and_no_worker_yet():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "worker": "unknown", "worker_heartbeat": None}


def test_a_heartbeat_makes_the_worker_ok_and_an_old_one_stale():
    heartbeat()
    assert Client().get("/healthz").json()["worker"] == "ok"
    cache.set(HEARTBEAT_KEY, (timezone.now() - timezone.timedelta(minutes=10)).isoformat())
    assert Client().get("/healthz").json()["worker"] == "stale"


@contextmanager
def unreachable_database():
    """Point the connection at a closed port: the next query really fails to connect."""
    from django.db import connection

    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "9"  # discard: nothing listens there
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


def test_an_unreachable_database_is_a_503(transactional_db):
    with unreachable_database():
        response = Client().get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "down"


def test_a_database_outage_during_an_api_request_is_a_fast_503_with_retry_after(transactional_db, alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with unreachable_database():
        response = client.get("/api/v1/episodes/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "unavailable" in response.json()["detail"]
