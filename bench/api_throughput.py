"""API throughput benchmark: episode create and bulk sync against a bare one-INSERT Django view.

    .venv/bin/python bench/api_throughput.py [--quick]

For each app server (gunicorn, granian) with identical settings, the driver
measures requests/s and latency of POST /bench/bare-insert/ (the baseline) and
POST /api/v1/episodes/ at saturation, alternating them in rounds so that drift
hits both; then p99 of both at half the baseline's throughput (open loop); then
episodes/s of POST /api/v1/sync/ with 100 episodes per request. Each run also
records the CPU the server and PostgreSQL spent per request, which other load on
the machine disturbs far less than req/s. Budgets are ratios within one run
(design.md section 6). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: its gunicorn and granian
RESULTS_DIR = ROOT / "bench" / "results"

PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
BENCH_DB = "cramptrack_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
HOST = "127.0.0.1"

BARE, CREATE, SYNC = "bare insert", "episode create", "sync x100"
PATHS = {BARE: "/bench/bare-insert/", CREATE: "/api/v1/episodes/", SYNC: "/api/v1/sync/"}
SYNC_BATCH = 100
REQUEST_TIMEOUT = 30.0
IDLE_REOPEN = 2.0  # seconds; below gunicorn's --keep-alive 5, so a POST never meets a closed connection
MAX_REQUESTS_PER_RUN = 200_000  # a bound besides time, in case a server answers absurdly fast

TARGET_CREATE_VS_BARE = 0.70
TARGET_P99_HALF_LOAD = 2.0
TARGET_SYNC_VS_CREATE = 10.0


@dataclass
class Plan:
    servers: list[str]
    workers: int
    threads: int
    connections: int
    rounds: int  # saturation rounds of bare, create, sync
    seconds: float  # per saturation run
    half_rounds: int
    half_seconds: float
    warmup_seconds: float


@dataclass
class Run:
    endpoint: str
    mode: str  # "saturation" (closed loop) or "half load" (open loop at a fixed rate)
    seconds: float
    requests: int
    rows: int  # rows the server acknowledged as created
    errors: int
    latencies_ms: list[float] = field(repr=False)
    client_cpu: float  # the driver's own CPU use, in cores: it shares the machine with the server
    target_rate: float | None = None
    # Open loop only: the server fell a second behind the schedule, so the run stopped early;
    # requests never sent count their wait so far, which makes p99 a lower bound.
    overloaded: bool = False
    unsent: int = 0
    # CPU seconds the app server's processes and the PostgreSQL backends used during the run.
    app_cpu: float = 0.0
    pg_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return (self.app_cpu + self.pg_cpu) * 1000 / max(self.requests, 1)


# --- CPU accounting ----------------------------------------------------------------
# On a shared machine, req/s swings with whatever else runs; the CPU a request costs
# (server processes plus PostgreSQL backends, read from /proc) is much steadier, and on
# a dedicated machine throughput is roughly its inverse.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int | str) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name; [] if the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads included."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def process_tree(root: int) -> list[int]:
    """The process and all its descendants (gunicorn's master and workers, granian's too)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(entry.name)):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


class CpuMeter:
    """CPU used by one app server (master and workers) and by the bench database's backends."""

    def __init__(self, server_pid: int):
        import psycopg

        self.server_pid = server_pid
        self.db = psycopg.connect(PG_SERVER + BENCH_DB, autocommit=True)

    def snapshot(self) -> tuple[dict[int, float], dict[int, float]]:
        backends = self.db.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [BENCH_DB]
        ).fetchall()
        app = {pid: process_cpu(pid) for pid in process_tree(self.server_pid)}
        return app, {pid: process_cpu(pid) for (pid,) in backends}

    def used_since(self, before: tuple[dict[int, float], dict[int, float]]) -> tuple[float, float]:
        # A process that started during the run counts from zero; one that ended is lost (rare:
        # CONN_MAX_AGE keeps the backends for the whole run).
        (app_after, pg_after), (app_before, pg_before) = self.snapshot(), before
        app = sum(cpu - app_before.get(pid, 0.0) for pid, cpu in app_after.items())
        pg = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
        return app, pg

    def close(self) -> None:
        self.db.close()


# --- Requests ------------------------------------------------------------------


def episode_data(started_at: str) -> dict:
    """A minimal 3 a.m. episode with a fresh client uuid, as the PWA sends it."""
    return {"id": str(uuid.uuid4()), "started_at": started_at, "muscle": "calf", "side": "left", "severity": 5}


def recent_started_at() -> str:
    # An hour ago, written with a non-UTC offset so that the offset is parsed too.
    zone = timezone(timedelta(hours=1))
    return (datetime.now(zone) - timedelta(hours=1)).isoformat(timespec="seconds")


def make_body(endpoint: str, started_at: str) -> bytes:
    if endpoint == SYNC:
        records = [{"type": "episode", "data": episode_data(started_at)} for _ in range(SYNC_BATCH)]
        return json.dumps({"records": records}).encode()
    return json.dumps(episode_data(started_at)).encode()


def rows_acknowledged(endpoint: str, status: int, body: bytes) -> int:
    """Rows a response says were created, or -1 if it is not the expected success."""
    if endpoint == SYNC:
        if status != 200:
            return -1
        results = json.loads(body)["results"]
        if len(results) != SYNC_BATCH or any(r["status"] != "created" for r in results):
            return -1
        return len(results)
    return 1 if status == 201 else -1


class Connection:
    """One keep-alive HTTP/1.1 connection; a minimal client so that the driver's CPU stays small."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.head = (
            "POST {path} HTTP/1.1\r\n"
            f"Host: {HOST}:{port}\r\n"
            "Content-Type: application/json\r\n"
            "Accept: application/json\r\n"
            f"Authorization: Token {token}\r\n"
            "Content-Length: {length}\r\n\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is not None and time.perf_counter() - self.last_used > IDLE_REOPEN:
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        try:
            self.writer.write(self.head.format(path=path, length=len(body)).encode() + body)
            return await asyncio.wait_for(self._response(self.reader), REQUEST_TIMEOUT)
        except BaseException:
            self.close()  # the stream is in an unknown state: start afresh next time
            raise
        finally:
            self.last_used = time.perf_counter()

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        if "content-length" not in headers:
            raise RuntimeError(f"response without Content-Length: {head[0]}")
        body = await reader.readexactly(int(headers["content-length"]))
        if headers.get("connection") == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Recorder:
    """Collects one run's outcomes."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.latencies_ms: list[float] = []
        self.requests = self.rows = self.errors = 0
        self.error_samples: list[str] = []

    async def exchange(self, conn: Connection, body: bytes, since: float) -> None:
        """Send one request; latency counts from `since` (the scheduled time in an open loop)."""
        try:
            status, answer = await conn.post(PATHS[self.endpoint], body)
            rows = rows_acknowledged(self.endpoint, status, answer)
        except Exception as exc:  # refused, reset, timed out, malformed: all count as errors
            status, answer, rows = 0, repr(exc).encode(), -1
        self.requests += 1
        if rows < 0:
            self.errors += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(f"{status} {answer[:300]!r}")
            return
        self.rows += rows
        self.latencies_ms.append((time.perf_counter() - since) * 1000)

    def result(self, mode: str, seconds: float, cpu: float, target_rate: float | None = None, unsent: int = 0) -> Run:
        for sample in self.error_samples:
            print(f"    error on {self.endpoint}: {sample}", file=sys.stderr)
        return Run(
            self.endpoint, mode, seconds, self.requests, self.rows, self.errors, self.latencies_ms, cpu, target_rate,
            overloaded=unsent > 0, unsent=unsent,
        )  # fmt: skip


async def closed_loop(conns: list[Connection], endpoint: str, seconds: float, started_at: str) -> Run:
    """Every connection sends its next request as soon as the last one is answered: saturation."""
    recorder = Recorder(endpoint)
    cpu0, start = time.process_time(), time.perf_counter()
    deadline = start + seconds

    async def user(conn: Connection) -> None:
        while time.perf_counter() < deadline and recorder.requests < MAX_REQUESTS_PER_RUN:
            body = make_body(endpoint, started_at)
            await recorder.exchange(conn, body, time.perf_counter())

    await asyncio.gather(*(user(conn) for conn in conns))
    elapsed = time.perf_counter() - start
    return recorder.result("saturation", elapsed, (time.process_time() - cpu0) / elapsed)


async def open_loop(conns: list[Connection], endpoint: str, rate: float, seconds: float, started_at: str) -> Run:
    """Requests start on a fixed schedule whatever the server's pace (no coordinated omission):
    a request that waits for a free connection counts that wait in its latency."""
    recorder = Recorder(endpoint)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for conn in conns:
        idle.put_nowait(conn)
    waiting = unsent = 0
    stopped = False
    backlog_limit = max(len(conns), int(rate))  # a second's worth of requests waiting for a connection

    async def one(scheduled: float, body: bytes) -> None:
        nonlocal waiting, unsent
        waiting += 1
        conn = await idle.get()
        waiting -= 1
        try:
            if stopped:  # overloaded: not sent, but its wait so far is part of the latency figures
                unsent += 1
                recorder.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
                return
            await recorder.exchange(conn, body, scheduled)
        finally:
            idle.put_nowait(conn)

    cpu0, start = time.process_time(), time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        if waiting > backlog_limit:
            stopped = True  # the server cannot keep this rate; waiting longer only grows the queue
            break
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, make_body(endpoint, started_at))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    cpu = (time.process_time() - cpu0) / elapsed
    return recorder.result("half load", elapsed, cpu, target_rate=rate, unsent=unsent)


async def measure(port: int, tokens: list[str], plan: Plan, meter: CpuMeter) -> tuple[dict[str, list[Run]], list[int]]:
    # One patient per connection: real traffic comes from many people, and requests of
    # one person would also queue on that person's rows (a lock wait, not a server cost).
    conns = [Connection(port, tokens[i % len(tokens)]) for i in range(plan.connections)]
    started_at = recent_started_at()
    runs: dict[str, list[Run]] = {"warmup": [], "saturation": [], "half load": []}
    # Warm-up: every worker imports and connects lazily on its first requests.
    for endpoint in (BARE, CREATE, SYNC):
        runs["warmup"].append(await closed_loop(conns, endpoint, plan.warmup_seconds, started_at))
    # Which process holds which keep-alive connection is decided when it is opened, and every later
    # request on it goes to that process: a lopsided split, not the endpoint, can decide the tail.
    split = connection_split(port)
    print(f"    connections per worker process: {split}", flush=True)
    # Alternate the endpoints within each round so that machine drift hits all of them alike.
    for round_no in range(plan.rounds):
        for endpoint in (BARE, CREATE, SYNC):
            before = meter.snapshot()
            run = await closed_loop(conns, endpoint, plan.seconds, started_at)
            run.app_cpu, run.pg_cpu = meter.used_since(before)
            runs["saturation"].append(run)
            print(
                f"    round {round_no + 1} {endpoint:<15} {run.rps:8.1f} req/s  "
                f"{run.cpu_ms_per_request:6.2f} CPU ms/request  {run.errors} errors",
                flush=True,
            )
    bare_rps = statistics.median(r.rps for r in runs["saturation"] if r.endpoint == BARE)
    for half_round in range(plan.half_rounds):
        for endpoint in (BARE, CREATE) if half_round % 2 == 0 else (CREATE, BARE):  # ABBA: drift hits both alike
            run = await open_loop(conns, endpoint, bare_rps / 2, plan.half_seconds, started_at)
            runs["half load"].append(run)
            note = f"  OVERLOADED: stopped, {run.unsent} requests not sent" if run.overloaded else ""
            p99 = percentile(run.latencies_ms, 99)
            print(f"    half load {endpoint:<15} {run.rps:8.1f} req/s  p99 {p99:.1f} ms  {run.errors} errors{note}")
    for conn in conns:
        conn.close()
    return runs, split


def socket_pids(port: int, state: str) -> list[str]:
    """The pid holding each of the server's TCP sockets on `port` in `state` (from `ss`)."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", state, f"( sport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout
    return re.findall(r"pid=(\d+)", out)


def connection_split(port: int) -> list[int]:
    """How the server's worker processes share the client's open connections, largest first
    (a worker holding none counts as 0: both servers give each worker its own listening socket)."""
    per_pid = Counter(socket_pids(port, "established"))
    counts = [per_pid.pop(pid, 0) for pid in set(socket_pids(port, "listening"))]
    return sorted(counts + list(per_pid.values()), reverse=True)


# --- Figures ---------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def summarise(runs: list[Run]) -> dict:
    """Median throughput over rounds; latency percentiles over all requests of all rounds."""
    latencies = [ms for run in runs for ms in run.latencies_ms]
    return {
        "req_per_s": statistics.median(r.rps for r in runs),
        "rows_per_s": statistics.median(r.rows_per_s for r in runs),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "requests": sum(r.requests for r in runs),
        "errors": sum(r.errors for r in runs),
        "client_cpu_cores": statistics.median(r.client_cpu for r in runs),
        "overloaded": any(r.overloaded for r in runs),
        "app_cpu_ms_per_req": statistics.median(r.app_cpu * 1000 / max(r.requests, 1) for r in runs),
        "pg_cpu_ms_per_req": statistics.median(r.pg_cpu * 1000 / max(r.requests, 1) for r in runs),
        "cpu_ms_per_req": statistics.median(r.cpu_ms_per_request for r in runs),
        "per_round_req_per_s": [round(r.rps, 1) for r in runs],
    }


def paired_ratio(runs: list[Run], numerator: str, denominator: str, per_s: Callable[[Run], float]) -> float:
    """Median over rounds of numerator/denominator, each ratio taken within one round."""
    tops = [per_s(r) for r in runs if r.endpoint == numerator]
    bottoms = [per_s(r) for r in runs if r.endpoint == denominator]
    return statistics.median(t / b for t, b in zip(tops, bottoms, strict=True))


def figures(runs: dict[str, list[Run]]) -> dict:
    sat, half = runs["saturation"], runs["half load"]
    by = {
        "saturation": {ep: summarise([r for r in sat if r.endpoint == ep]) for ep in (BARE, CREATE, SYNC)},
        "half_load": {ep: summarise([r for r in half if r.endpoint == ep]) for ep in (BARE, CREATE)},
    }
    half_rate = half[0].target_rate if half else float("nan")
    create_vs_bare = paired_ratio(sat, CREATE, BARE, lambda r: r.rps)
    p99_ratio = by["half_load"][CREATE]["p99_ms"] / by["half_load"][BARE]["p99_ms"]
    # An overloaded run's p99 is a lower bound: the ratio is only known to be at least this.
    p99_lower_bound = by["half_load"][CREATE]["overloaded"] or by["half_load"][BARE]["overloaded"]
    sync_vs_create = paired_ratio(sat, SYNC, CREATE, lambda r: r.rows_per_s)
    by["half_load_rate"] = half_rate
    # What the CPU cost per request predicts for the same ratios on a machine with nothing else running.
    by["cpu_estimates"] = {
        "create_vs_bare_req_per_s": paired_ratio(sat, BARE, CREATE, lambda r: r.cpu_ms_per_request),
        "sync_vs_create_episodes_per_s": paired_ratio(
            sat, CREATE, SYNC, lambda r: r.cpu_ms_per_request / (SYNC_BATCH if r.endpoint == SYNC else 1)
        ),
    }
    by["targets"] = {
        "create_vs_bare_req_per_s": {
            "value": create_vs_bare,
            "target": f">= {TARGET_CREATE_VS_BARE}",
            "met": create_vs_bare >= TARGET_CREATE_VS_BARE,
        },
        "create_vs_bare_p99_half_load": {
            "value": p99_ratio,
            "target": f"<= {TARGET_P99_HALF_LOAD}",
            "met": p99_ratio <= TARGET_P99_HALF_LOAD and not p99_lower_bound,
            "lower_bound": p99_lower_bound,
        },
        "sync_vs_create_episodes_per_s": {
            "value": sync_vs_create,
            "target": f">= {TARGET_SYNC_VS_CREATE}",
            "met": sync_vs_create >= TARGET_SYNC_VS_CREATE,
        },
    }
    return by


def print_table(meta: dict, results: dict[str, dict]) -> None:
    """Markdown tables, ready to paste into bench/README.md."""
    plan = meta["plan"]
    print(
        f"\n{meta['when']}, commit {meta['commit']}, {meta['cpus']} CPUs, "
        f"load average before {meta['load_before']:.2f}; "
        f"{plan['workers']} workers x {plan['threads']} thread, {plan['connections']} connections, "
        f"{plan['rounds']} rounds x {plan['seconds']:g} s\n"
    )
    columns = (
        "server | endpoint | load | req/s | episodes/s | p50 ms | p99 ms | errors | CPU ms/req (app + db) | client CPU"
    )
    print(f"| {columns} |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for server, res in results.items():
        for load, key in (("saturated", "saturation"), (f"{res['half_load_rate']:.0f}/s", "half_load")):
            for endpoint, s in res[key].items():
                p99 = f"{'>' if s['overloaded'] else ''}{s['p99_ms']:.1f}"
                cpu = f"{s['app_cpu_ms_per_req']:.2f} + {s['pg_cpu_ms_per_req']:.2f}" if key == "saturation" else ""
                print(
                    f"| {server} | {endpoint} | {load} | {s['req_per_s']:.1f} | {s['rows_per_s']:.1f} | "
                    f"{s['p50_ms']:.1f} | {p99} | {s['errors']} | {cpu} | {s['client_cpu_cores']:.2f} |"
                )
    labels = {
        "create_vs_bare_req_per_s": "episode create req/s ÷ bare req/s, saturated",
        "create_vs_bare_p99_half_load": "episode create p99 ÷ bare p99, half load",
        "sync_vs_create_episodes_per_s": "sync episodes/s ÷ single-create episodes/s",
    }
    splits = ", ".join(f"{server} {'/'.join(map(str, r['connections_per_process']))}" for server, r in results.items())
    print(f"\nconnections per worker process: {splits}")
    print("\n| target | " + " | ".join(results) + " |")
    print("|---|" + "--:|" * len(results))
    for key, label in labels.items():
        cells = []
        for res in results.values():
            t = res["targets"][key]
            value = f"{'≥ ' if t.get('lower_bound') else ''}{t['value']:.2f}"
            cells.append(f"{value} {'met' if t['met'] else '**missed**'}")
        target = next(iter(results.values()))["targets"][key]["target"]
        print(f"| {label} ({target}) | " + " | ".join(cells) + " |")
        if key in next(iter(results.values()))["cpu_estimates"]:
            estimates = [f"{r['cpu_estimates'][key]:.2f}" for r in results.values()]
            print("| &nbsp;&nbsp;the same from CPU per request (noise-resistant) | " + " | ".join(estimates) + " |")
    checks = [
        f"{r['rows_check']['stored']} = {r['rows_check']['acknowledged']}"
        if r["rows_check"]["ok"]
        else f"**{r['rows_check']['stored']} ≠ {r['rows_check']['acknowledged']}**"
        for r in results.values()
    ]
    print("| rows stored = rows acknowledged | " + " | ".join(checks) + " |")


# --- Database and servers -------------------------------------------------------


def server_env(user_id: int = 0) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench",
        "DATABASE_URL": PG_SERVER + BENCH_DB,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "600",  # persistent, as in production, and no backend replaced mid-run
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "BENCH_USER_ID": str(user_id),
    }


def prepare_database(users: int) -> tuple[int, list[str]]:
    """A fresh, migrated bench database with `users` patients and an API token each.

    Returns the first user's id (the bare view writes for that one) and the tokens.
    """
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

    call_command("migrate", interactive=False, verbosity=0)
    # No password: no Argon2 cost here; the API is reached with tokens only.
    people = [User.objects.create_user(email=f"bench{i}@example.org") for i in range(users)]
    tokens = [AuthToken.objects.create(user)[1] for user in people]
    connections.close_all()
    return people[0].pk, tokens


def count_episodes() -> int:
    from django.db import connections

    from diary.models import Episode

    count = Episode.objects.count()
    connections.close_all()  # hold no connection while the servers run
    return count


def commit() -> str:
    """The commit measured, marked dirty when the working tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_command(server: str, port: int, plan: Plan) -> list[str]:
    """The same process and thread counts for both servers; gunicorn's gthread worker keeps connections alive."""
    app = "cramptrack.wsgi:application"
    if server == "gunicorn":
        return [
            str(BIN / "gunicorn"), app, "--bind", f"{HOST}:{port}", "--workers", str(plan.workers),
            "--worker-class", "gthread", "--threads", str(plan.threads), "--keep-alive", "5", "--log-level", "warning",
            "--reuse-port",  # as docker-compose.yml: a listening socket per worker (granian does it by itself)
        ]  # fmt: skip
    return [
        str(BIN / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port),
        "--workers", str(plan.workers), "--blocking-threads", str(plan.threads), "--log-level", "warning", app,
    ]  # fmt: skip


def wait_until_ready(port: int, proc: subprocess.Popen, log: Path, workers: int) -> None:
    """Ready when Django answers (a GET on the bare view is a 405 and writes nothing) and every worker
    listens: the kernel spreads new connections over the listening sockets there are, so connections
    opened while one worker was still starting all went to the other (32/0 once on granian)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        try:
            with socket.create_connection((HOST, port), timeout=2) as sock:
                sock.sendall(f"GET {PATHS[BARE]} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
                if sock.recv(64).startswith(b"HTTP/1.1 405") and len(set(socket_pids(port, "listening"))) >= workers:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on {workers} listening sockets within 60 s; see {log}")


def bench_server(server: str, plan: Plan, user_id: int, tokens: list[str]) -> dict:
    port = free_port()
    log = RESULTS_DIR / f"api-{server}.log"
    before = count_episodes()
    with log.open("w") as out:
        proc = subprocess.Popen(
            server_command(server, port, plan),
            cwd=ROOT,
            env=server_env(user_id),
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group, so that its workers can be stopped with it
        )
        try:
            wait_until_ready(port, proc, log, plan.workers)
            meter = CpuMeter(proc.pid)
            try:
                runs, split = asyncio.run(measure(port, tokens, plan, meter))
            finally:
                meter.close()
        finally:
            stop(proc)
    acknowledged = sum(r.rows for group in runs.values() for r in group)
    stored = count_episodes() - before
    result = figures(runs)
    result["rows_check"] = {"acknowledged": acknowledged, "stored": stored, "ok": acknowledged == stored}
    result["connections_per_process"] = split
    result["runs"] = [
        {k: v for k, v in asdict(r).items() if k != "latencies_ms"} | {"rps": r.rps} for g in runs.values() for r in g
    ]
    return result


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- Main ------------------------------------------------------------------------


def parse_args() -> Plan:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs (about a minute): a smoke test, not figures")
    parser.add_argument("--servers", default="gunicorn,granian", help="comma-separated: gunicorn, granian")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2, for 2 cores)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent client connections, one patient each (default 32)"
    )
    args = parser.parse_args()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := set(servers) - {"gunicorn", "granian"}:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if args.quick:
        return Plan(servers, args.workers, args.threads, args.connections, 1, 3, 1, 3, 1)
    # Many short rounds rather than a few long ones: a paired ratio per round cancels slow drift. The same for
    # half load: this VM's speed swings by a third from one 2 s stretch to the next, so the two endpoints
    # alternate in 6 windows of 3 s each and their p99s pool every window (2 of 5 s each let one slow
    # stretch decide a p99).
    return Plan(servers, args.workers, args.threads, args.connections, 5, 4, 6, 3, 2)


def main() -> int:
    plan = parse_args()
    RESULTS_DIR.mkdir(exist_ok=True)
    # Other work on the machine skews both endpoints of a round alike, but it is worth knowing.
    load_before = os.getloadavg()[0]
    print(f"Preparing database {BENCH_DB} ...", flush=True)
    user_id, tokens = prepare_database(plan.connections)
    results = {}
    for server in plan.servers:
        print(f"{server}:", flush=True)
        results[server] = bench_server(server, plan, user_id, tokens)
    meta = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "commit": commit(),
        "plan": asdict(plan),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    print_table(meta, results)
    out = RESULTS_DIR / f"api_throughput-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"meta": meta, "servers": results}, indent=2))
    print(f"\nFull results: {out.relative_to(ROOT)}")
    all_met = all(t["met"] for r in results.values() for t in r["targets"].values())
    all_clean = all(r["rows_check"]["ok"] and not any(run["errors"] for run in r["runs"]) for r in results.values())
    return 0 if all_met and all_clean else 1


if __name__ == "__main__":
    sys.exit(main())
