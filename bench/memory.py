"""The memory budget: the whole `make run` stack (web, worker, beat) in at most 400 MB.

Runs the Procfile as `make run` does (honcho: gunicorn with one worker and four threads, a Celery
worker with beat embedded) on the embedded default in a fresh directory (SQLite, the filesystem broker,
emails as files), with the demo patient and clinician and a beat tick of a few seconds. It then uses
the stack as a morning would: the patient's app logs cramps and check-ins through the API, reads its
insights and downloads the report PDF; the worker analyses the diary and sends the weekly email.
Meanwhile it samples the memory of every process in the stack once a second: PSS (each shared page
split between the processes that share it, so the sum is what the stack costs the machine) and RSS
(what `top` shows; shared pages counted once per process, so the sum overstates).

    make bench-memory      # or: .venv/bin/python bench/memory.py [--seconds 60]

Exit status 0 if the peak PSS of the stack is within the budget.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MB = 400
TICK_SECONDS = 3


def environment(var_dir: Path, port: int) -> dict[str, str]:
    return {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": "bench-memory",
        "DEBUG": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        # Empty, not unset: a developer's .env must not switch this run to their servers.
        "REDIS_URL": "",
        "EMAIL_URL": "",
        "ANALYSIS_TICK_SECONDS": str(TICK_SECONDS),
        "DIGEST_TICK_SECONDS": str(TICK_SECONDS),
        # Skip collectstatic (minutes for the API docs' bundles): serve the sources.
        "WHITENOISE_USE_FINDERS": "1",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_LEVEL": "WARNING",
    }


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """PSS and RSS of one process, in KiB (0, 0 if it has gone)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.endswith("kB")}
    return values.get("Pss", 0), values.get("Rss", 0)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:90]
    except OSError:
        return ""


class Sampler(threading.Thread):
    """The stack's total PSS and RSS once a second, and each process's at the peak."""

    def __init__(self, root_pid: int):
        super().__init__(daemon=True)
        self.root_pid, self.stop = root_pid, threading.Event()
        self.samples: list[tuple[int, int]] = []
        self.peak: tuple[int, dict[str, int]] = (0, {})

    def run(self) -> None:
        while not self.stop.wait(1):
            per_process = {pid: memory_kib(pid) for pid in descendants(self.root_pid)}
            pss, rss = sum(p for p, _ in per_process.values()), sum(r for _, r in per_process.values())
            self.samples.append((pss, rss))
            if pss > self.peak[0]:
                self.peak = (pss, {f"{pid} {command_line(pid)}": p for pid, (p, _) in per_process.items()})


def request(port: int, method: str, path: str, token: str = "", body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Token {token}"
    call = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def use_the_app(port: int, seconds: float, email: str, password: str) -> int:
    """What the demo patient's phone does for `seconds`: returns how many requests were answered 2xx."""
    status, body = request(port, "POST", "/api/v1/auth/token/", body={"email": email, "password": password})
    assert status == 201, (status, body[:200])
    token = json.loads(body)["token"]
    ok, deadline, night = 0, time.monotonic() + seconds, datetime.now(UTC) - timedelta(hours=3)
    calls = 0
    while time.monotonic() < deadline:
        calls += 1
        when = night - timedelta(minutes=calls)
        for method, path, payload in [
            ("POST", "/api/v1/episodes/", {"id": str(uuid.uuid4()), "started_at": when.isoformat(), "muscle": "calf"}),
            ("POST", "/api/v1/checkins/", {"date": (when - timedelta(days=calls % 30 + 1)).date().isoformat()}),
            ("GET", "/api/v1/insights/", None),
            ("GET", "/api/v1/episodes/", None),
            ("GET", "/sharing/report.pdf" if calls % 10 == 0 else "/api/v1/me/", None),
        ]:
            status, _ = request(port, method, path, token, payload)
            ok += 200 <= status < 300
    return ok


def wait_for_web(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:  # not listening yet
            pass
        time.sleep(0.5)
    sys.exit(f"bench-memory: the web process did not answer within {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the app is used (default 60)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cramptrack.settings")

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="cramptrack-memory-") as var:
        env = environment(Path(var), port)
        # The demo's login, read from the code that creates it.
        os.environ.update(env)
        import django

        django.setup()
        from diary import demo

        python = str(ROOT / ".venv" / "bin" / "python")
        for step in (["migrate", "--no-input"], ["seed_demo"], ["share_demo"]):
            subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
        stack = subprocess.Popen(  # noqa: S603
            [str(ROOT / ".venv" / "bin" / "honcho"), "start", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        sampler = Sampler(stack.pid)
        try:
            wait_for_web(port)
            sampler.start()
            answered = use_the_app(port, args.seconds, demo.PATIENT_EMAIL, demo.PATIENT_PASSWORD)
            time.sleep(2 * TICK_SECONDS)  # the last tick's analysis and email
            mails = len(list((Path(var) / "mail").glob("*")))
        finally:
            sampler.stop.set()
            os.killpg(stack.pid, signal.SIGTERM)
            stack.wait(30)

    peak_pss, per_process = sampler.peak
    peak_rss = max(rss for _, rss in sampler.samples)
    print(f"requests answered   {answered} in {args.seconds:.0f} s; email files written {mails}")
    print(f"samples             {len(sampler.samples)} (one a second)")
    print(f"peak PSS            {peak_pss / 1024:.0f} MB (budget {BUDGET_MB} MB)")
    print(f"peak RSS            {peak_rss / 1024:.0f} MB (shared pages counted once per process)")
    print("per process at the peak (PSS):")
    for name, kib in sorted(per_process.items(), key=lambda item: -item[1]):
        if kib:
            print(f"  {kib / 1024:6.0f} MB  {name}")
    ok = peak_pss / 1024 <= BUDGET_MB and answered > 0 and mails > 0
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
