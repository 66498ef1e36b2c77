"""The API budget under a realistic mix, on PostgreSQL, against gunicorn as production runs it.

    .venv/bin/python bench/api_mix.py [--rate 50] [--seconds 60]     (make bench-api)

Open loop: requests start on a fixed schedule (50 a second) whatever the server's pace, each on
a new connection from a different patient, as phones do; a request's latency counts from its
scheduled start, so a stall shows as the queue behind it. The mix: 90% writes (episode creates,
check-in upserts, offline syncs of 1 to 5 records), 10% reads (episode and check-in lists, the
profile). The server, PostgreSQL and this load generator share the machine (2 cores).
Budget: p95 <= 50 ms, p99 <= 150 ms, 0 errors; the exit status is 0 only if it is met.

Needs PostgreSQL at postgres://postgres@127.0.0.1:5432/ (trust auth) and Redis at 127.0.0.1:6379.
It drops and recreates the database `cramptrack_bench` and uses Redis db 14.
"""

import argparse
import http.client
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
BENCH_DB = "cramptrack_bench"
HOST = "127.0.0.1"
PATIENTS = 300
HISTORY_DAYS = 90
WARMUP_SECONDS = 10
BUDGET_P95_MS, BUDGET_P99_MS = 50.0, 150.0

# (kind, share of requests): 90% writes, 10% reads.
MIX = [
    ("episode create", 0.40),
    ("check-in upsert", 0.25),
    ("sync", 0.25),
    ("episode list", 0.05),
    ("check-in list", 0.03),
    ("profile", 0.02),
]


def gunicorn_argv(port: int) -> list[str]:
    """The Dockerfile's web command, bound to this machine's loopback on `port`."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = re.search(r'^CMD \[.*"exec (gunicorn [^"]*)"\]', dockerfile, flags=re.MULTILINE).group(1)
    argv = shlex.split(command.replace("${WEB_CONCURRENCY:-2}", "2"))
    argv[argv.index("--bind") + 1] = f"{HOST}:{port}"
    return [str(BIN / "gunicorn"), *argv[1:]]


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cramptrack.settings",
        "SECRET_KEY": "bench-" + "k" * 60,
        "DEBUG": "0",
        "DATABASE_URL": PG_SERVER + BENCH_DB,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "WARNING",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }


def prepare_database() -> list[str]:
    """A fresh, migrated database: PATIENTS patients with HISTORY_DAYS of diary and an API token each."""
    import psycopg

    with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ.update(server_env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from knox.models import AuthToken

    from accounts.models import User
    from diary.models import CheckIn, Episode

    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(1)
    today = datetime.now(UTC).date()
    tokens, episodes, checkins = [], [], []
    for i in range(PATIENTS):
        user = User.objects.create_user(email=f"bench{i}@example.org")  # no password: tokens only
        tokens.append(AuthToken.objects.create(user)[1])
        for back in range(2, HISTORY_DAYS):
            night = today - timedelta(days=back)
            cramps = rng.random() < 0.3
            checkins.append(CheckIn(user=user, date=night, no_cramps=not cramps, stress=rng.randint(0, 10)))
            if cramps:
                started = datetime.combine(night + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=3)
                episodes.append(
                    Episode(user=user, night=night, started_at=started, timezone="UTC", muscle="calf", side="left")
                )
    CheckIn.objects.bulk_create(checkins, batch_size=2000)
    Episode.objects.bulk_create(episodes, batch_size=2000)
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()
    return tokens


def episode_body(rng: random.Random) -> dict:
    started = datetime.now(UTC) - timedelta(minutes=rng.randint(5, 600))
    body = {"id": str(uuid.uuid4()), "started_at": started.isoformat(), "muscle": "calf", "side": "left"}
    if rng.random() < 0.5:  # details added at the time, or left for the morning
        body.update(severity=rng.randint(1, 10), duration_minutes=rng.choice([0.5, 1, 2.5, 5]), relief="stretch")
    return body


def checkin_body(rng: random.Random) -> dict:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    return {"date": yesterday, "no_cramps": False, "stress": rng.randint(0, 10), "sleep_hours": 7.5}


def request_for(kind: str, rng: random.Random) -> tuple[str, str, dict | None]:
    """(method, path, JSON body) of one request of this kind."""
    if kind == "episode create":
        return "POST", "/api/v1/episodes/", episode_body(rng)
    if kind == "check-in upsert":
        return "POST", "/api/v1/checkins/", checkin_body(rng)
    if kind == "sync":
        records = [{"type": "episode", "data": episode_body(rng)} for _ in range(rng.randint(1, 4))]
        return "POST", "/api/v1/sync/", {"records": [*records, {"type": "checkin", "data": checkin_body(rng)}]}
    since = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    paths = {"episode list": f"/api/v1/episodes/?since={since}", "check-in list": "/api/v1/checkins/"}
    return "GET", paths.get(kind, "/api/v1/me/"), None


def send(port: int, token: str, method: str, path: str, body: dict | None) -> str | None:
    """One request on a new connection; None if it succeeded, else what went wrong."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body), "application/json"
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
        answer = response.read()
    except OSError as error:
        return repr(error)
    finally:
        conn.close()
    if response.status not in (200, 201):
        return f"{response.status} {answer[:200]!r}"
    if path == "/api/v1/sync/":
        refused = [r for r in json.loads(answer)["results"] if r["status"] not in ("created", "updated")]
        return f"sync refused {refused[:2]}" if refused else None
    return None


def run(port: int, tokens: list[str], rate: float, seconds: float, seed: int) -> list[tuple[str, float, str | None]]:
    """Open loop at `rate` requests/s for `seconds`: (kind, latency ms, error) of each request."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    results: list[tuple[str, float, str | None]] = []
    lock = threading.Lock()

    def one(scheduled: float, kind: str, token: str, request: tuple) -> None:
        error = send(port, token, *request)
        with lock:
            results.append((kind, (time.perf_counter() - scheduled) * 1000, error))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:  # a stalled server queues requests here, in their latency
        for i in range(int(rate * seconds)):
            scheduled = start + i / rate
            kind = rng.choices(kinds, weights)[0]
            request = request_for(kind, rng)
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            pool.submit(one, scheduled, kind, rng.choice(tokens), request)
    return results


def cpu_seconds(server_pid: int) -> float:
    """CPU (user + system) used so far by gunicorn's processes and the bench database's backends.

    On a busy machine latency says more about the neighbours than about the app; CPU per
    request does not, and 50 requests/s fit 2 cores only while it stays well under 40 ms.
    """
    import psycopg

    pids = [server_pid]
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    with psycopg.connect(PG_SERVER + "postgres") as conn:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
        pids += [row[0] for row in conn.execute(query, [BENCH_DB])]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")


def report(results: list[tuple[str, float, str | None]], seconds: float, cpu: float) -> bool:
    print(f"\n{'requests':<16} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for kind in [k for k, _ in MIX] + ["all"]:
        rows = [r for r in results if kind in ("all", r[0])]
        ms = [latency for _, latency, _ in rows]
        errors = sum(1 for *_, error in rows if error)
        print(
            f"{kind:<16} {len(rows):>6} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} "
            f"{percentile(ms, 99):>8.1f} {max(ms, default=0):>8.1f} {errors:>7}"
        )
    for error in sorted({error for *_, error in results if error})[:5]:
        print(f"  error: {error}")
    ms = [latency for _, latency, _ in results]
    p95, p99, errors = percentile(ms, 95), percentile(ms, 99), sum(1 for *_, e in results if e)
    print(f"\n{len(results) / seconds:.1f} requests/s achieved over {seconds:.0f} s")
    print(f"CPU per request (gunicorn + PostgreSQL backends): {cpu * 1000 / max(len(results), 1):.1f} ms")
    met = p95 <= BUDGET_P95_MS and p99 <= BUDGET_P99_MS and errors == 0
    print(
        f"budget p95 <= {BUDGET_P95_MS:.0f} ms: {p95:.1f}; p99 <= {BUDGET_P99_MS:.0f} ms: {p99:.1f}; "
        f"0 errors: {errors} -> {'met' if met else 'NOT MET'}"
    )
    return met


def wait_until_ready(port: int, token: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log}")
        if send(port, token, "GET", "/api/v1/me/", None) is None:
            return
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds, after a 10 s warm-up")
    args = parser.parse_args()

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tokens = prepare_database()
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / "api-gunicorn.log"
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    argv = gunicorn_argv(port)
    print("server: " + " ".join(argv[1:]))
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=server_env(), stdout=out, stderr=out, start_new_session=True)
        try:
            wait_until_ready(port, tokens[0], proc, log)
            run(port, tokens, args.rate, WARMUP_SECONDS, seed=1)
            started, cpu_before = time.perf_counter(), cpu_seconds(proc.pid)
            results = run(port, tokens, args.rate, args.seconds, seed=2)
            elapsed, cpu = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu_before
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if report(results, elapsed, cpu) else 1


if __name__ == "__main__":
    sys.exit(main())
