"""Fixtures for the browser tests: a real gunicorn server on the test database,
and Debian's Chromium driven by Playwright (never a downloaded browser)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ZONE = "Europe/London"
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn in its own process group, so a test can kill -9 it and start it again."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path):
        self.env, self.port, self.log_path = env, port, log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn), "cramptrack.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*command, "--threads", "4", "--access-logfile", "-"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within 30 s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, no finished responses."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, tmp_path_factory):
    """One server for the session, on the test database pytest-django created."""
    from django.db import connection

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    port = free_port()
    var_dir = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,  # the same key, so sessions made here are valid there
        "DEBUG": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "VAR_DIR": str(var_dir),
        "CONN_MAX_AGE": "0",  # no idle connection may hold up the flush between tests
        # Static files from static/ through WhiteNoise's finders: no collectstatic.
        "WHITENOISE_USE_FINDERS": "1",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_LEVEL": "WARNING",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    server = LiveServer(env, port, ARTIFACTS / "gunicorn.log")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def live(live_server_process, transactional_db):
    """The running server; restarted if the previous test left it dead."""
    if not live_server_process.running():
        live_server_process.start()
    return live_server_process


@pytest.fixture(scope="session")
def playwright():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread, which Django
    # takes for an async context; the ORM calls here are plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def new_context(browser, live):
    """Browser contexts at phone size in the user's zone; closed after the test."""
    contexts = []

    def make(*, user=None, service_workers="block", **options):
        context = browser.new_context(
            base_url=live.url,
            viewport=options.pop("viewport", PHONE),
            device_scale_factor=options.pop("device_scale_factor", 1),
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            timezone_id=options.pop("timezone_id", ZONE),
            service_workers=service_workers,
            **options,
        )
        context.set_default_timeout(15_000)
        if user is not None:
            context.add_cookies([{"name": "sessionid", "value": session_for(user), "url": live.url}])
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def session_for(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def screenshot(page, name: str) -> Path:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own (the fault tests stop, empty and freeze it)."""
    from .private_services import PrivateRedis

    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.close()
