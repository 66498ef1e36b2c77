"""The reliability battery (`make reliability`): schema fuzzing, a soak, and faults under load.

    .venv/bin/python bench/reliability.py                 # the documented run (about 20 minutes)
    .venv/bin/python bench/reliability.py --quick         # CI-sized: a 120 s soak, short fault runs
    .venv/bin/python bench/reliability.py --only schema,faults

Everything runs on private servers started here (run as root: the PostgreSQL
cluster is made with initdb as the postgres user), never on the machine's own:
a PostgreSQL 15 cluster in a temporary directory, a redis-server, gunicorn
(2 gthread workers), a Celery worker with beat, and an aiosmtpd mail catcher.
Schemathesis and locust come from .venv-reliability (requirements-reliability.txt).

Phases, each with its own pass/fail (see bench/RELIABILITY.md):
  schema    schemathesis, every check, authenticated with a real token: 0 failures
  capacity  closed-loop locust run: the requests/s this machine serves
  soak      locust at 70% of capacity: 0 errors, p99 over time, RSS over time, rows = acknowledged
  redis     Redis stopped/started in turns during a closed-loop run: throughput with it down
            vs up (the budget: >= 80%); then nothing lost and the analysis caught up
  faults    under load: Redis stopped, restarted empty and hung; PostgreSQL restarted;
            a worker killed with SIGKILL during a digest run. Each with a conservation check.
Exit status 0 only if every phase passes. Figures: bench/results/reliability-<time>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cramptrack.tests.private_services import (  # noqa: E402
    CeleryWorker,
    Gunicorn,
    PrivatePostgres,
    PrivateRedis,
    app_env,
    free_port,
    migrate,
    wait_until,
)

RESULTS = ROOT / "bench" / "results"
TOOLS = ROOT / ".venv-reliability" / "bin"
USERS = 16  # simulated phones = patients with their own token
SOAK_LOAD = 0.70
CLAIM_SECONDS = 60
CATCH_UP_SECONDS = CLAIM_SECONDS + 60  # a claim to expire, then a tick and a chunk


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- The stack -----------------------------------------------------------------


class Stack:
    """Private PostgreSQL + Redis, gunicorn, worker + beat, a mail catcher; the ORM pointed at them."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis(workdir / "redis")
        self.smtp_port = free_port()

    def start(self) -> None:
        log("starting a private PostgreSQL cluster and redis-server")
        self.pg.init()
        self.pg.start()
        self.pg.create_database()
        self.redis.start()
        self.env = app_env(
            self.pg.url(),
            self.redis.url(0),
            CONN_MAX_AGE="60",
            ANALYSIS_TICK_SECONDS="5",
            DIGEST_TICK_SECONDS="5",
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            CELERY_VISIBILITY_TIMEOUT="10",
            # A chunk queued when Redis restarts empty is lost with it; its diaries are planned again
            # once the claim expires (30 minutes in production, a minute here).
            ANALYSIS_CLAIM_SECONDS=str(CLAIM_SECONDS),
        )
        # This process reads and writes the same database through the ORM.
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "EMAIL_URL", "CONN_MAX_AGE"):
            os.environ[key] = self.env[key]
        os.environ["DJANGO_SETTINGS_MODULE"] = "cramptrack.settings"
        import django

        django.setup()
        migrate(self.env)
        self.tokens = make_patients(USERS)
        (self.workdir / "tokens").write_text("\n".join(self.tokens) + "\n")
        self.web = Gunicorn(self.env, self.workdir / "gunicorn.log", workers=2, threads=4)
        self.web.start()
        self.worker = CeleryWorker(self.env, self.workdir / "worker.log", beat=True)
        self.worker.start(pool="prefork")
        log(f"gunicorn at {self.web.url}, worker + beat on {self.redis.url(0)}")

    def close(self) -> None:
        for stop in (self.worker.stop, self.web.stop, self.redis.close, self.pg.close):
            try:
                stop()
            except Exception as error:  # keep tearing down
                log(f"teardown: {error}")


def make_patients(count: int) -> list[str]:
    from knox.models import AuthToken

    from accounts.models import User

    tokens = []
    for n in range(count):
        user = User.objects.create_user(email=f"phone{n:03d}@example.org")
        user.profile.timezone = "Europe/London"
        user.profile.save()
        tokens.append(AuthToken.objects.create(user)[1])
    return tokens


def fresh_db():
    from django.db import connection

    connection.close()  # after a PostgreSQL restart the old connection is gone


def stored_uuids() -> set[str]:
    from diary.models import Episode

    fresh_db()
    return {str(u) for u in Episode.objects.values_list("uuid", flat=True)}


def rss_kib(root_pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's master and workers)."""
    pids, total = {root_pid}, 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == root_pid:
                pids.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


# --- locust ----------------------------------------------------------------------


class LoadRun:
    """One headless locust run; its stats history, failures and acknowledged uuids."""

    def __init__(self, stack: Stack, name: str, seconds: int, users: int, rate_per_user: float):
        self.stack, self.name, self.seconds, self.users, self.rate = stack, name, seconds, users, rate_per_user
        self.prefix = stack.workdir / name
        self.ack_file = stack.workdir / f"{name}.acks"
        self.rss: list[tuple[float, int]] = []
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "RELIABILITY_TOKENS_FILE": str(self.stack.workdir / "tokens"),
            "RELIABILITY_ACK_FILE": str(self.ack_file),
            "RELIABILITY_USER_RATE": str(self.rate),
        }
        command = [str(TOOLS / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
        command += ["-H", self.stack.web.url, "-u", str(self.users), "-r", str(self.users), "-t", f"{self.seconds}s"]
        command += ["--csv", str(self.prefix), "--csv-full-history", "--only-summary", "-s", "15"]
        command += ["--loglevel", "WARNING"]
        log(f"{self.name}: locust, {self.users} users, {self.rate or 'no'} wait-rate, {self.seconds} s")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=(self.stack.workdir / f"{self.name}.locust.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        self._sampler = threading.Thread(target=self._sample_rss, daemon=True)
        self._sampler.start()

    def _sample_rss(self) -> None:
        while self.process.poll() is None:
            self.rss.append((time.monotonic() - self.started, rss_kib(self.stack.web.process.pid)))
            time.sleep(5)

    def at(self, seconds: float) -> None:
        """Sleep until `seconds` into the run."""
        time.sleep(max(0.0, self.started + seconds - time.monotonic()))

    def wait(self) -> dict:
        self.process.wait(timeout=self.seconds + 120)
        return self.summary()

    def summary(self) -> dict:
        rows = list(csv.DictReader((self.prefix.parent / f"{self.prefix.name}_stats.csv").open()))
        total = next(r for r in rows if r["Name"] == "Aggregated")
        failures = list(csv.DictReader((self.prefix.parent / f"{self.prefix.name}_failures.csv").open()))
        return {
            "requests": int(total["Request Count"]),
            "failures": int(total["Failure Count"]),
            "rps": float(total["Requests/s"]),
            "p50_ms": float(total["50%"]),
            "p99_ms": float(total["99%"]),
            "by_endpoint": {
                r["Name"]: {
                    "requests": int(r["Request Count"]),
                    "failures": int(r["Failure Count"]),
                    "p99_ms": float(r["99%"]),
                }
                for r in rows
                if r["Name"] != "Aggregated"
            },
            "failure_kinds": {f"{f['Method']} {f['Name']}: {f['Error']}": int(f["Occurrences"]) for f in failures},
        }

    def history(self) -> list[dict]:
        """Per second: elapsed s, req/s and p99 ms over locust's 10 s window, aggregated over endpoints."""
        rows = csv.DictReader((self.prefix.parent / f"{self.prefix.name}_stats_history.csv").open())
        points, first = [], None
        for row in rows:
            if row["Name"] != "Aggregated" or row["99%"] in ("N/A", ""):
                continue
            stamp = int(row["Timestamp"])
            first = first if first is not None else stamp
            points.append({"t": stamp - first, "rps": float(row["Requests/s"]), "p99_ms": float(row["99%"])})
        return points

    def acknowledged(self) -> tuple[set[str], set[str]]:
        acks = set(self.ack_file.read_text().split())
        pending = set(self.ack_file.with_suffix(".pending").read_text().split())
        return acks, pending


def conservation(run: LoadRun) -> dict:
    """Every acknowledged create is stored; nothing is stored that no client sent."""
    acks, pending = run.acknowledged()
    stored = stored_uuids()
    return {
        "acknowledged": len(acks),
        "stored": len(stored),
        "acknowledged_but_missing": len(acks - stored),
        "stored_not_sent": len(stored - acks - pending),
        "in_flight_at_end": len(pending),
        "in_flight_stored": len(pending & stored),
        "ok": not (acks - stored) and not (stored - acks - pending),
    }


def clear_episodes() -> None:
    from diary.models import Episode

    fresh_db()
    Episode.objects.all().delete()


# --- Phases ------------------------------------------------------------------------


QUICK_SEED = "20261121"


def phase_schema(stack: Stack, quick: bool) -> dict:
    log("schema: schemathesis, all checks")
    report = stack.workdir / "schemathesis"
    config = ROOT / "bench" / "schemathesis.toml"
    command = [str(TOOLS / "schemathesis"), "--config-file", str(config), "run", f"{stack.web.url}/api/v1/schema/"]
    command += ["--checks", "all"]
    command += ["-H", f"Authorization: Token {stack.tokens[0]}", "--workers", "2"]
    command += ["--max-examples", "25" if quick else "100", "--report", "junit", "--report-dir", str(report)]
    command += ["--request-timeout", "30", "--no-color", "--generation-with-security-parameters", "false"]
    # Logging out revokes the token the rest of the run uses (every later call would be a vacuous 401).
    command += ["--exclude-path", "/api/v1/auth/logout/"]
    # The quick (CI) run replays one seed, so a commit's CI verdict is reproducible; the full run
    # explores afresh each time. SCHEMATHESIS_SEED overrides either.
    seed = os.environ.get("SCHEMATHESIS_SEED") or (QUICK_SEED if quick else "")
    if seed:
        command += ["--seed", seed]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    (stack.workdir / "schemathesis.log").write_text(done.stdout + done.stderr)
    tail = "\n".join(done.stdout.strip().splitlines()[-25:])
    # Only schemathesis's count goes to the console: its closing pytest-style line ("3 warnings in
    # 21 s") would read as the last test summary of a CI log. The whole output is in the log file.
    counts = next((line.strip() for line in done.stdout.splitlines() if " generated, " in line), "no count")
    took = time.monotonic() - started
    log(f"schema: exit {done.returncode} in {took:.0f} s; {counts}; log {report.parent / 'schemathesis.log'}")
    # A patient's token meets 403 on clinician-only operations; a 401 would mean the token was not
    # used (except on the token endpoint itself, where random credentials are rightly refused).
    unauthenticated = [op for op in only_401(done.stdout) if op != "POST /api/v1/auth/token/"]
    ok = done.returncode == 0 and not unauthenticated
    return {"ok": ok, "exit": done.returncode, "unauthenticated_operations": unauthenticated, "summary": tail}


def only_401(output: str) -> list[str]:
    """The operations schemathesis lists under "401 Unauthorized (n operations):"."""
    operations, inside = [], False
    for line in output.splitlines():
        if line.startswith("401 Unauthorized ("):
            inside = True
        elif inside and line.strip().startswith("- "):
            operations.append(line.strip()[2:])
        elif inside:
            inside = False
    return operations


def phase_capacity(stack: Stack, quick: bool) -> dict:
    run = LoadRun(stack, "capacity", 30 if quick else 60, USERS, 0)
    run.start()
    summary = run.wait()
    steady = [p["rps"] for p in run.history() if p["t"] >= 10]
    capacity = statistics.median(steady) if steady else summary["rps"]
    log(f"capacity: {capacity:.1f} req/s (median of per-second rates after 10 s), p99 {summary['p99_ms']:.0f} ms")
    return {"ok": summary["failures"] == 0, "capacity_rps": capacity, **summary}


def phase_soak(stack: Stack, quick: bool, capacity: float, seconds: int) -> dict:
    clear_episodes()
    target = SOAK_LOAD * capacity
    run = LoadRun(stack, "soak", seconds, USERS, target / USERS)
    run.start()
    summary = run.wait()
    history = run.history()
    warm = [p for p in history if p["t"] >= 30]
    third = max(1, len(warm) // 3)
    p99_first = statistics.median(p["p99_ms"] for p in warm[:third])
    p99_last = statistics.median(p["p99_ms"] for p in warm[-third:])
    rss = [kib for t, kib in run.rss if t >= 30]
    rss_first, rss_last = (
        statistics.median(rss[: max(1, len(rss) // 3)]),
        statistics.median(rss[-max(1, len(rss) // 3) :]),
    )
    check = conservation(run)
    result = {
        "target_rps": target,
        **summary,
        "p99_first_third_ms": p99_first,
        "p99_last_third_ms": p99_last,
        "p99_by_minute_ms": p99_by_minute(history),
        "rss_mib_first_third": rss_first / 1024,
        "rss_mib_last_third": rss_last / 1024,
        "rss_mib_by_minute": rss_by_minute(run.rss),
        "conservation": check,
    }
    result["ok"] = (
        summary["failures"] == 0
        and check["ok"]
        and p99_last <= 1.5 * p99_first + 20  # stable: no upward drift beyond noise
        and rss_last <= 1.2 * rss_first  # flat: no growth beyond a fifth
    )
    log(
        f"soak: {summary['requests']} requests at {summary['rps']:.1f}/s (target {target:.1f}), "
        f"{summary['failures']} failures, p99 {p99_first:.0f} -> {p99_last:.0f} ms, "
        f"RSS {rss_first / 1024:.0f} -> {rss_last / 1024:.0f} MiB, "
        f"rows {check['stored']} = acks {check['acknowledged']}"
    )
    return result


def p99_by_minute(history: list[dict]) -> list[float]:
    minutes: dict[int, list[float]] = {}
    for p in history:
        minutes.setdefault(p["t"] // 60, []).append(p["p99_ms"])
    return [round(max(v), 1) for _, v in sorted(minutes.items())]


def rss_by_minute(samples: list[tuple[float, int]]) -> list[float]:
    minutes: dict[int, list[int]] = {}
    for t, kib in samples:
        minutes.setdefault(int(t // 60), []).append(kib)
    return [round(max(v) / 1024, 1) for _, v in sorted(minutes.items())]


def phase_redis(stack: Stack, quick: bool) -> dict:
    """Closed loop; Redis up and down in turns: throughput with Redis down vs up, same run."""
    clear_episodes()
    span, cycles = (10, 3) if quick else (20, 3)
    run = LoadRun(stack, "redis-ratio", 10 + 2 * span * cycles + 5, USERS, 0)
    run.start()
    windows = []  # (state, start, end) in run seconds
    t = 10
    for _ in range(cycles):
        windows.append(("up", t, t + span))
        run.at(t + span)
        stack.redis.stop()
        windows.append(("down", t + span, t + 2 * span))
        run.at(t + 2 * span)
        stack.redis.start()
        t += 2 * span
    summary = run.wait()
    history = run.history()
    rates: dict[str, list[float]] = {"up": [], "down": []}
    for state, start, end in windows:
        # Skip the first 3 s of each window (the switch) and its last second.
        inside = [p["rps"] for p in history if start + 3 <= p["t"] < end - 1]
        if inside:
            rates[state].append(statistics.mean(inside))
    ratio = statistics.median(d / u for d, u in zip(rates["down"], rates["up"], strict=False))
    check = conservation(run)
    caught_up = analysis_caught_up(timeout=CATCH_UP_SECONDS)
    result = {
        "rps_up": rates["up"],
        "rps_down": rates["down"],
        "down_vs_up": ratio,
        **summary,
        "conservation": check,
        "analysis_caught_up_s": caught_up,
    }
    result["ok"] = ratio >= 0.8 and summary["failures"] == 0 and check["ok"] and caught_up is not None
    log(
        f"redis: req/s up {fmt(rates['up'])}, down {fmt(rates['down'])}: ratio {ratio:.2f} (>= 0.80); "
        f"{summary['failures']} failures; rows {check['stored']} = acks {check['acknowledged']}; "
        f"analysis caught up in {caught_up} s"
    )
    return result


def fmt(values: list[float]) -> str:
    return "/".join(f"{v:.0f}" for v in values)


def analysis_caught_up(timeout: float) -> float | None:
    """Seconds until every diary's analysis is newer than its last change (the planner's sweep)."""
    from django.db.models import F, Q

    from diary.models import Profile

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        fresh_db()
        behind = Profile.objects.filter(diary_changed_at__isnull=False).filter(
            Q(user__analysis_state__isnull=True)
            | Q(user__analysis_state__analysed_at__isnull=True)
            | Q(user__analysis_state__analysed_at__lt=F("diary_changed_at"))
        )
        if not behind.exists():
            return round(time.monotonic() - started, 1)
        time.sleep(1)
    return None


def phase_faults(stack: Stack, quick: bool, capacity: float) -> dict:
    results = {"redis": fault_redis(stack, quick, capacity), "postgres": fault_postgres(stack, quick, capacity)}
    results["worker"] = fault_worker(stack, quick)
    results["ok"] = all(r["ok"] for r in results.values())
    return results


def fault_redis(stack: Stack, quick: bool, capacity: float) -> dict:
    """Stopped, restarted empty, then hung (SIGSTOP), under load at half capacity."""
    clear_episodes()
    run = LoadRun(stack, "fault-redis", 60, USERS, 0.5 * capacity / USERS)
    run.start()
    run.at(10)
    stack.redis.stop()
    run.at(22)
    stack.redis.start()
    run.at(30)
    stack.redis.pause()
    run.at(42)
    stack.redis.resume()
    summary = run.wait()
    check = conservation(run)
    caught_up = analysis_caught_up(timeout=CATCH_UP_SECONDS)
    ok = summary["failures"] == 0 and check["ok"] and caught_up is not None
    log(
        f"fault redis: {summary['requests']} requests, {summary['failures']} failures, p99 {summary['p99_ms']:.0f} ms; "
        f"rows {check['stored']} = acks {check['acknowledged']}; analysis caught up in {caught_up} s"
    )
    return {"ok": ok, **summary, "conservation": check, "analysis_caught_up_s": caught_up}


def fault_postgres(stack: Stack, quick: bool, capacity: float) -> dict:
    """A fast restart and a crash (immediate stop) under load; clients retry with the same uuid."""
    clear_episodes()
    run = LoadRun(stack, "fault-postgres", 60, USERS, 0.5 * capacity / USERS)
    run.start()
    run.at(12)
    stack.pg.stop("fast")
    time.sleep(4)
    stack.pg.start()
    run.at(32)
    stack.pg.stop("immediate")
    time.sleep(4)
    stack.pg.start()
    summary = run.wait()
    history = run.history()
    check = conservation(run)
    kinds = summary["failure_kinds"]
    only_503 = all("HTTP 503" in kind for kind in kinds)
    served_after = [p["rps"] for p in history if p["t"] >= 45]
    ok = check["ok"] and only_503 and summary["failures"] > 0 and bool(served_after) and min(served_after) > 0
    log(
        f"fault postgres: {summary['failures']} refused requests ({', '.join(kinds) or 'none'}), "
        f"rows {check['stored']} = acks {check['acknowledged']} (+{check['in_flight_stored']} in flight at the end); "
        f"served again after restart: {bool(served_after) and min(served_after) > 0}"
    )
    return {"ok": ok, **summary, "conservation": check, "only_503": only_503}


def fault_worker(stack: Stack, quick: bool) -> dict:
    """kill -9 the worker while it waits for the SMTP server's answer mid-run; restart it; count emails."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import User
    from cramptrack.tests.test_resilience_worker import HoldingCatcher
    from notifications.delivery import lease
    from notifications.models import DigestDelivery

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    people = 150 if quick else 500
    fresh_db()
    now = timezone.now()
    expected = set()
    for n in range(people):
        # Joined a month ago: a week before joining gets no email.
        user = User.objects.create_user(email=f"digest{n:04d}@example.org", date_joined=now - timedelta(days=30))
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        user.profile.digest_next_at = now + timedelta(seconds=20)  # due once the worker is back at full strength
        user.profile.save()
        expected.add(user.email)
    catcher = HoldingCatcher(stack.smtp_port, hold_at=people // 3)
    catcher.start()
    try:
        wait_until(lambda: catcher.holding, 120, "the worker reaching the held message")
        stack.worker.kill()
        catcher.released = True
        in_flight = DigestDelivery.objects.filter(status=DigestDelivery.Status.SENDING)
        claimed = in_flight.count()
        in_flight.update(claimed_at=timezone.now() - lease() - timedelta(minutes=1))  # "ten minutes later"
        stack.worker.start(pool="prefork")
        sent = DigestDelivery.objects.filter(status=DigestDelivery.Status.SENT)
        wait_until(lambda: sent.count() == people, 180, f"{people} digests sent", interval=1)
        time.sleep(12)  # past the visibility timeout: a late redelivery would duplicate now
    finally:
        catcher.released = True
        catcher.stop()
    recipients = Counter(str(m["To"]) for m in catcher.messages)
    duplicates = sum(n - 1 for n in recipients.values() if n > 1)
    ok = set(recipients) == expected and duplicates == 0
    log(
        f"fault worker: {len(catcher.messages)} emails for {people} people, "
        f"{duplicates} duplicates, {claimed} in flight at the kill"
    )
    return {"ok": ok, "people": people, "emails": len(catcher.messages), "duplicates": duplicates, "in_flight": claimed}


# --- Main --------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI-sized runs (120 s soak)")
    parser.add_argument("--soak-seconds", type=int, help="soak length (default 600, quick 120)")
    parser.add_argument("--only", default="schema,capacity,soak,redis,faults", help="comma-separated phases")
    args = parser.parse_args()
    phases = args.only.split(",")
    if os.geteuid() != 0:
        print("Run as root: the private PostgreSQL cluster is made with runuser -u postgres.", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    workdir = RESULTS / f"reliability-{stamp}"
    workdir.mkdir()
    results: dict = {"started": stamp, "quick": args.quick, "load_average_before": os.getloadavg()}
    stack = Stack(workdir)
    try:
        stack.start()
        if "schema" in phases:
            results["schema"] = phase_schema(stack, args.quick)
        capacity = None
        if {"capacity", "soak", "faults"} & set(phases):
            results["capacity"] = phase_capacity(stack, args.quick)
            capacity = results["capacity"]["capacity_rps"]
        if "soak" in phases:
            seconds = args.soak_seconds or (120 if args.quick else 600)
            results["soak"] = phase_soak(stack, args.quick, capacity, seconds)
        if "redis" in phases:
            results["redis"] = phase_redis(stack, args.quick)
        if "faults" in phases:
            results["faults"] = phase_faults(stack, args.quick, capacity)
    finally:
        results["load_average_after"] = os.getloadavg()
        stack.close()
        out = RESULTS / f"reliability-{stamp}.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        log(f"figures: {out}; logs: {workdir}")
    verdicts = {name: value["ok"] for name, value in results.items() if isinstance(value, dict) and "ok" in value}
    for name, ok in verdicts.items():
        log(f"{name:10} {'pass' if ok else 'FAIL'}")
    return 0 if verdicts and all(verdicts.values()) else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
