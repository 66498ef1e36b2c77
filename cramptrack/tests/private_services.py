"""Private Redis and PostgreSQL servers, gunicorn and Celery processes for fault tests.

The machine's own Redis and PostgreSQL are shared and must never be stopped, so
every outage is staged on a private server started here: a redis-server on a
free port, a PostgreSQL cluster made by initdb in a temporary directory (run as
the postgres user). Used by the resilience tests and by bench/reliability.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def started(process: subprocess.Popen, check, timeout: float, what: str) -> None:
    """Wait for a process we just started to be ready; if it is not, stop it before failing."""
    try:
        wait_until(check, timeout, what)
    except TimeoutError:
        stop_process(process, signal.SIGKILL)
        raise


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def stop_process(process: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 15) -> None:
    """Signal a process group we started and wait for it; SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


class PrivateRedis:
    """redis-server on a free port with no persistence: a restart also empties the broker."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        self.process = subprocess.Popen(command, start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: self._pings(client), 10, "private redis-server start")

    @staticmethod
    def _pings(client) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """A clean stop: the port refuses connections at once."""
        stop_process(self.process, signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, but nothing ever answers."""
        assert self.process is not None, "not started"
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None, "not started"
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
        stop_process(self.process, signal.SIGKILL)


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster (trust auth) on a free port, owned by the postgres user."""

    def __init__(self):
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="cramptrack-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        shutil.chown(self.base, "postgres", "postgres")

    def url(self, name: str = "cramptrack") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _as_postgres(self, *command: str, timeout: float = 120) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, timeout=timeout, capture_output=True)

    def init(self) -> None:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=60"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """fast: roll back open transactions and close every connection; immediate: as a crash."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str = "cramptrack") -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def app_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like process of ours against the given stores."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cramptrack.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "reliability-tests",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WHITENOISE_USE_FINDERS": "1",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )


class Gunicorn:
    """gunicorn in its own process group, gthread workers as in production."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1, threads: int = 4):
        self.env, self.log_path = env, log_path
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [str(BIN / "gunicorn"), "cramptrack.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(self.workers), "--worker-class", "gthread", "--threads", str(self.threads)]
        command += ["--timeout", "60", "--keep-alive", "5"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        started(self.process, self._answers, 30, f"gunicorn start (see {self.log_path})")

    def _answers(self) -> bool:
        assert self.process is not None, "not started"
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
        try:
            with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM)


class CeleryWorker:
    """A real `celery worker` process (optionally with an embedded beat)."""

    def __init__(
        self, env: dict[str, str], log_path: Path, queues: str = "celery", beat: bool = False, app_module="cramptrack"
    ):
        self.env, self.log_path, self.queues, self.beat, self.app_module = env, log_path, queues, beat, app_module
        self.process: subprocess.Popen | None = None

    def start(self, pool: str = "solo") -> None:
        command = [str(BIN / "celery"), "-A", self.app_module, "worker", "-Q", self.queues, "--pool", pool]
        command += ["--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        if self.beat:
            schedule = Path(tempfile.mkdtemp(prefix="cramptrack-beat-")) / "schedule"
            command += ["--beat", "--schedule", str(schedule)]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        # INFO: the worker's "ready." line is how we know it consumes (the app logs through settings.LOGGING).
        env = {**self.env, "LOG_LEVEL": "INFO"}
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        started(self.process, lambda: "ready." in self.log_text(offset), 60, f"worker start ({self.log_path})")

    def log_text(self, offset: int = 0) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def kill(self) -> None:
        """kill -9 the worker and every child: no shutdown, no acknowledgement."""
        stop_process(self.process, signal.SIGKILL)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, timeout=30)


def current_database_url() -> str:
    """The URL of the database this process's Django uses (the test database under pytest)."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
