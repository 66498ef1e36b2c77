"""Shared test fixtures. The suite runs against the real PostgreSQL and Redis
named by DATABASE_URL and REDIS_URL and stops at once if either is missing."""

import time

import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from rest_framework.test import APIClient

# Fixtures that start processes of their own: every test using one is marked `servers`
# (pytest.ini), which `make test-fast` leaves out.
SPAWNING_FIXTURES = {"private_redis", "live_server_process"}


def pytest_configure(config):
    import os

    from cramptrack.celery import app

    # A queue of this session's own, so two test runs on one Redis never take each other's tasks.
    app.conf.task_default_queue = f"tests-{os.getpid()}"
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"The tests need PostgreSQL (DATABASE_URL); settings point at {engine}.", returncode=3)
    if not settings.REDIS_URL:
        pytest.exit("The tests need Redis: set REDIS_URL.", returncode=3)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.exit(f"Redis at {settings.REDIS_URL} is unreachable: {error}", returncode=3)
    import psycopg

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        pytest.exit(f"PostgreSQL at {db['HOST']}:{db['PORT']} is unreachable: {error}", returncode=3)


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items):
    for item in items:
        if SPAWNING_FIXTURES.intersection(item.fixturenames):
            item.add_marker(pytest.mark.servers)


@pytest.fixture(autouse=True)
def empty_cache():
    # The cache is the real Redis; allauth's rate limits live there between tests.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def plain_static_storage(settings, tmp_path):
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 as in production at a fraction of the cost: 100 MiB and 8 lanes a hash were most
    of the suite's time on 2 cores. Its hashes still verify in any process of the app (Argon2
    reads the cost from the hash), which upgrades them at the next login."""

    time_cost, memory_cost, parallelism = 1, 1024, 1


@pytest.fixture(autouse=True)
def cheap_password_hashing(settings):
    # Production's hashers (so older hashes still verify and upgrade), Argon2 at a test's cost.
    settings.PASSWORD_HASHERS = [
        "conftest.CheapArgon2PasswordHasher" if path.endswith(".Argon2PasswordHasher") else path
        for path in settings.PASSWORD_HASHERS
    ]


class MailCatcher:
    """A real SMTP server (aiosmtpd) on a free local port; it can refuse mail on demand."""

    def __init__(self, port: int):
        self.messages: list = []
        self.sessions = 0
        self.refuse = False
        self.recipient_replies: dict[str, str] = {}  # address -> the reply to its RCPT TO, e.g. "550 5.1.1 ..."
        self.port = port
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        # A stopped Controller cannot restart (its loop is closed): make a new one on the same port.
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop(no_assert=True)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.recipient_replies:
            return self.recipient_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    catcher = MailCatcher(port)
    catcher.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield catcher
    catcher.stop()


def in_one_window(*limits, margin: float = 10.0) -> None:
    """cramptrack.ratelimit counts in fixed windows, afresh from each multiple of a limit's length since the
    epoch: a test that uses up a window and expects the next try refused must make all its tries in one.
    If the current window ends within `margin` seconds, wait for the next one to begin."""
    left = min(limit.seconds - time.time() % limit.seconds for limit in limits)
    if left < margin:
        time.sleep(left + 0.05)


def make_user(email, zone="Europe/London", role="patient"):
    from accounts.models import User

    user = User.objects.create_user(email=email, password="correct horse battery", role=role)  # noqa: S106
    user.profile.timezone, user.profile.timezone_confirmed = zone, True  # as a phone or the person set it
    user.profile.save()
    return user


@pytest.fixture
def alice(db):
    return make_user("alice@example.org")


@pytest.fixture
def bob(db):
    return make_user("bob@example.org", zone="America/New_York")


@pytest.fixture
def alice_api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def bob_api(bob):
    client = APIClient()
    client.force_authenticate(bob)
    return client
