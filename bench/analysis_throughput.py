"""Analysis throughput benchmark: one-year diaries analysed through the real Celery path.

    .venv/bin/python bench/analysis_throughput.py [--diaries 10000] [--quick] [--rounds 3] [--keep-db] [--shared-redis]

In a fresh PostgreSQL database the script generates N/10 one-year diaries in
bulk SQL, analyses them all through a real Celery worker (production's pool size) fed by
the planner `insights.tasks.plan_analysis`, then adds diaries up to N,
analyses all N, and the first N/10 once more on the full database: diaries/s,
CPU and peak memory, and the per-diary cost ratio (linear => 1.0). On the same rows, in the same run, it times two
baselines: a per-row Python loop over model instances computing every finding of a sample of diaries
(bench/analysis_loop.py; its findings must equal the chunked path's), and one plain SQL GROUP BY
(user_id, night) over all the episodes. Last, R paired rounds (default 3) each time the loop on the sample
and the Celery path over all N diaries back to back, in alternating order, so that a slow patch of the shared
machine hits both sides of a round's ratio; the headline is the median of the rounds' ratios. The broker is a
private redis-server (db 13) unless --shared-redis. Budgets are design.md section 6; see bench/ANALYSIS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"

PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
BENCH_DB = "cramptrack_bench_analysis"
DATABASE_URL = PG_SERVER + BENCH_DB
SHARED_REDIS_URL = "redis://127.0.0.1:6379/13"
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": SHARED_REDIS_URL,  # replaced by a private server's URL unless --shared-redis
    "SECRET_KEY": "bench",
    "DEBUG": "0",  # DEBUG would keep every query in memory and distort peak RSS
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "cramptrack.settings",
}

# A private queue, in case of --shared-redis: other test runs start throwaway workers on
# the default "celery" queue of the same Redis db (seen on db 13), which would take our chunks.
QUEUE = "bench-analysis"
WORKER_CONCURRENCY = 0  # pool processes: production's setting (CELERY_WORKER_CONCURRENCY) unless --concurrency
NIGHTS = 365
CHECKIN_SHARE = 0.9  # ~330 check-ins a year
LOOP_SAMPLE = 200
PAIRED_ROUNDS = 3
SQL_REPEATS = 3
ANALYSIS_TIMEOUT = 30 * 60
STALL_TIMEOUT = 120  # no diary finished for this long: chunks were lost

TARGET_VS_LOOP = 20.0
TARGET_SCALING = 1.25  # this script's reading of "linear": per-diary cost at N within 25% of that at N/10


# --- Database and data ------------------------------------------------------------


def create_database() -> None:
    with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    env = {**os.environ, **ENV}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)


def drop_database() -> None:
    with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]

# One row per (diary, night) with that day's context and the night's cramp count.
# Cramps are geometric (overdispersed, as real cramps cluster) with a personal rate,
# doubled on cold-feet nights and x1.5 after 60+ minutes of exercise, so that some
# exposure rules find a pattern. A subquery with random() in its output is never
# flattened, so each drawn value is used consistently.
NIGHTS_SQL = """
CREATE TEMP TABLE bench_nights AS
SELECT n.*, LEAST(5, floor(ln(1 - random()) / ln(n.mean / (1 + n.mean))))::int AS cramps
FROM (
    SELECT x.*, x.rate * CASE WHEN x.feet_cold THEN 2 ELSE 1 END
                       * CASE WHEN x.exercise_minutes >= 60 THEN 1.5 ELSE 1 END AS mean
    FROM (
        SELECT b.user_id, b.zone, b.rate, %(first)s::date + d AS night,
               random() < %(checkin_share)s AS checked_in,
               random() < 0.05 AS unanswered,
               CASE WHEN random() < 0.4 THEN 0 ELSE 10 + floor(random() * 100)::int END AS exercise_minutes,
               random() < 0.2 AS feet_cold
        FROM bench_batch b CROSS JOIN generate_series(0, %(nights)s - 1) d
    ) x
) n
"""

# Rows are written night by night, in random user order within a night, as a live diary table fills:
# a diary's check-ins and episodes each lie on a page of their own, shared with other diaries' rows
# but not with its chunk's (the planner's chunks are diaries in the order they changed, not by id).
CHECKINS_SQL = """
INSERT INTO diary_checkin (uuid, user_id, date, no_cramps, bedtime, wake_time, exercise_minutes, fluids_cups,
                           feet_cold, hours_sitting, stress, sleep_disturbance, notes, created_at, updated_at)
SELECT gen_random_uuid(), user_id, night,
       CASE WHEN unanswered THEN NULL ELSE cramps = 0 END,
       time '22:00' + random() * interval '90 minutes',
       time '06:00' + random() * interval '90 minutes',
       exercise_minutes,
       CASE WHEN random() < 0.8 THEN round((3 + random() * 9)::numeric, 1) END,
       CASE WHEN random() < 0.7 THEN feet_cold END,
       CASE WHEN random() < 0.6 THEN round((2 + random() * 10)::numeric, 1) END,
       CASE WHEN random() < 0.5 THEN floor(random() * 11)::int END,
       floor(random() * 11)::int,
       '', now(), now()
FROM bench_nights WHERE checked_in
ORDER BY night, random()
"""

# Local 22:30 to 06:30, so that `night` agrees with diary.localtime.night_of.
EPISODES_SQL = """
INSERT INTO diary_episode (uuid, user_id, started_at, time_approximate, night, muscle, side, duration_minutes,
                           severity, context, hard_knot, relief, numbness_tingling, tingling_mouth_fingers,
                           weakness, calf_swelling, pain_between_cramps, back_pain_radiating, foot_pale_cold,
                           walking_pain_relief, saddle_numbness, dark_urine, breathless_chest_pain, urge_to_move,
                           spread_beyond_legs, notes, created_at, updated_at)
SELECT gen_random_uuid(), n.user_id,
       ((n.night + time '22:30') + random() * interval '8 hours') AT TIME ZONE n.zone,
       false, n.night,
       (ARRAY['calf', 'calf', 'calf', 'foot', 'toes', 'hamstring'])[1 + floor(random() * 6)::int],
       (ARRAY['left', 'right', 'both'])[1 + floor(random() * 3)::int],
       CASE WHEN random() < 0.7 THEN round((0.5 + random() * 4)::numeric, 1) END,
       CASE WHEN random() < 0.8 THEN 1 + floor(random() * 9)::int END,
       (ARRAY['woke_from_sleep', 'woke_from_sleep', 'lying_awake', ''])[1 + floor(random() * 4)::int],
       CASE WHEN random() < 0.5 THEN true END, '',
       false, false, false, false, false, false, false, '', false, false, false, false, false,
       '', now(), now()
FROM bench_nights n CROSS JOIN LATERAL generate_series(1, n.cramps) k
WHERE n.cramps > 0
ORDER BY n.night, random()
"""


def drop_indexes(conn: psycopg.Connection, table: str) -> list[sql.Composable]:
    """Drop a table's secondary indexes and unique constraints; returns the statements that restore them."""
    restore: list[sql.Composable] = []
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        (table,),
    ).fetchall()
    for name, definition in constraints:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name)))
        restore.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
        )
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        (table, table),
    ).fetchall()
    for name, definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        restore.append(sql.SQL(definition))
    return restore


def generate(conn: psycopg.Connection, first_user: int, last_user: int) -> tuple[dict[str, int], dict[str, float]]:
    """Bulk-insert diaries bench-<first_user>..bench-<last_user>, all in SQL: rows per table, seconds per step."""
    steps: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[name] = steps.get(name, 0.0) + now - clock
        clock = now

    today = date.today()
    params = {"first": today - timedelta(days=NIGHTS), "nights": NIGHTS, "checkin_share": CHECKIN_SHARE}
    with conn.transaction():
        # Rows are consistent by construction; skipping the per-row deferred FK triggers
        # makes millions of inserts several times faster.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        max_id = conn.execute("SELECT coalesce(max(id), 0) FROM accounts_user").fetchone()[0]
        conn.execute(
            """INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff, is_active,
                                          date_joined, email, role)
               SELECT '!', false, '', '', false, true, now(), 'bench-' || g || '@example.test', 'patient'
               FROM generate_series(%s::int, %s::int) g""",
            (first_user, last_user),
        )
        conn.execute(
            """CREATE TEMP TABLE bench_batch ON COMMIT DROP AS
               SELECT id AS user_id, (%s::text[])[1 + id %% 5] AS zone, 0.1 + 0.08 * (id %% 8) AS rate
               FROM accounts_user WHERE id > %s""",
            (ZONES, max_id),
        )
        conn.execute(
            """INSERT INTO diary_profile (user_id, timezone, birth_year, sex, pregnant, postmenopausal, has_diabetes,
                   has_thyroid_disease, has_pad, has_lumbar_stenosis_or_disc, has_liver_disease, has_kidney_disease,
                   has_heart_failure, has_neurological_disease, on_fluid_restriction, digest_enabled,
                   digest_weekday, digest_hour, diary_changed_at, created_at, updated_at)
               SELECT user_id, zone, 1940 + user_id % 50, '', false, false, user_id % 10 = 0, false, false, false,
                      false, false, false, false, false, true, 0, 8, now(), now(), now()
               FROM bench_batch"""
        )
        # A statin started mid-year for 1 in 5, magnesium for 1 in 7: exercises R06 and R06b.
        conn.execute(
            """INSERT INTO diary_medicationcourse (uuid, user_id, name, drug_class, dose, started_on, stopped_on,
                                                   notes, created_at, updated_at)
               SELECT gen_random_uuid(), user_id, c.name, c.drug_class, '', %(first)s::date + c.day, NULL, '',
                      now(), now()
               FROM bench_batch
               JOIN (VALUES ('Atorvastatin', 'statin', 180, 5), ('Magnesium', 'magnesium', 240, 7))
                    AS c(name, drug_class, day, every) ON user_id %% c.every = 0""",
            params,
        )
        step("users, profiles, courses")
        conn.execute("SELECT setseed(%s)", (first_user / (last_user + 1),))
        conn.execute(NIGHTS_SQL, params)
        step("nights")
        # Maintaining the (user, uuid) and other btrees row by row is ~90% of the insert time;
        # rebuilding them afterwards (the same definitions) is several times faster.
        restore = drop_indexes(conn, "diary_checkin") + drop_indexes(conn, "diary_episode")
        checkins = conn.execute(CHECKINS_SQL).rowcount
        step("checkins")
        episodes = conn.execute(EPISODES_SQL).rowcount
        step("episodes")
        for statement in restore:
            conn.execute(statement)
        step("indexes")
        conn.execute("DROP TABLE bench_nights")
    conn.commit()
    step("commit")
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        admin.execute("VACUUM ANALYZE")  # fresh statistics, as a long-running database would have
    step("vacuum analyze")
    return {"users": last_user - first_user + 1, "checkins": checkins, "episodes": episodes}, steps


def reset_analysis(conn: psycopg.Connection) -> None:
    """Every diary due again: no state, no findings."""
    conn.execute("TRUNCATE insights_finding, insights_analysisstate")
    conn.commit()


def sql_aggregate(conn: psycopg.Connection, diaries: int) -> tuple[float, int]:
    """The floor: cramps per (diary, night) over the first `diaries` diaries' episodes (all of them in a full
    run), fetched to Python; median of a few runs."""
    query = (
        "SELECT user_id, night, count(*) FROM diary_episode"
        " WHERE user_id IN (SELECT user_id FROM diary_profile ORDER BY user_id LIMIT %s) GROUP BY user_id, night"
    )
    times, groups = [], 0
    for _ in range(SQL_REPEATS):
        started = time.perf_counter()
        rows = conn.execute(query, (diaries,)).fetchall()
        times.append(time.perf_counter() - started)
        groups = len(rows)
    conn.commit()
    return statistics.median(times), groups


# --- Processes and memory ---------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    # Fields after "(comm)": state, ppid, ... utime is overall field 14, stime 15.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def child_pids(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry))[1]) == parent:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set since start or since reset_peak()."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # "5" resets VmHWM to the current RSS


class PrivateRedis:
    """A throwaway redis-server on a free local port. The shared server's db 13 is also used as a cache
    by other processes on this machine, and a cache.clear() there (FLUSHDB) silently dropped queued chunks."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{port}/13"
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class BackendCpu:
    """CPU of the PostgreSQL backends serving the bench database: they share the 2 cores with the workers."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def pids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (BENCH_DB,)
        ).fetchall()
        self.conn.commit()
        return [row[0] for row in rows]

    def begin(self) -> None:
        self.start = {pid: cpu_seconds([pid]) for pid in self.pids()}
        self.last = dict(self.start)

    def sample(self) -> None:
        # Backends come and go (CONN_MAX_AGE), so keep the last reading of each one seen.
        for pid in self.pids():
            self.last[pid] = cpu_seconds([pid]) or self.last.get(pid, 0.0)

    def total(self) -> float:
        self.sample()
        return sum(value - self.start.get(pid, 0.0) for pid, value in self.last.items())


class Worker:
    """A real `celery worker` (prefork, WORKER_CONCURRENCY processes) on the bench database and Redis db 13."""

    def __init__(self, log: Path):
        cmd = [str(BIN / "celery"), "-A", "cramptrack", "worker"]
        cmd += ["--concurrency", str(WORKER_CONCURRENCY), "--loglevel", "WARNING", "--queues", QUEUE]
        self.log = log.open("a")
        # Own session, so that stop() can signal exactly this worker and its pool.
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **ENV}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 90) -> None:
        from cramptrack.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}; see {self.log.name}")
            if app.control.ping(timeout=0.5) and len(self.pool()) >= WORKER_CONCURRENCY:
                return
        raise RuntimeError("celery worker did not answer a ping")

    def pool(self) -> list[int]:
        return child_pids(self.proc.pid)

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.pool()]

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with {self.proc.returncode}; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# --- The Celery path ------------------------------------------------------------------------


@dataclass
class Phase:
    diaries: int
    database_diaries: int  # diaries in the database at the time
    rows: dict[str, int]
    generate_s: float
    plan_s: float  # the planner call: claim + send the chunks
    analyse_s: float  # planner call to the last diary's AnalysisState.analysed_at
    worker_cpu_s: float  # user + system CPU of the worker and its pool processes
    db_cpu_s: float  # CPU of the PostgreSQL backends on the bench database meanwhile
    pool_peak_rss_mb: list[float]  # VmHWM of each pool process
    worker_main_peak_rss_mb: float
    planner_rss_before_mb: float
    planner_peak_rss_mb: float  # the driver process's VmHWM during the planner call
    findings: int
    sql_aggregate_s: float
    sql_groups: int
    load_average: tuple[float, float, float]

    @property
    def diaries_per_s(self) -> float:
        return self.diaries / self.analyse_s

    @property
    def ms_per_diary(self) -> float:
        return 1000 * self.analyse_s / self.diaries

    @property
    def cpu_share(self) -> float:
        """The share of the machine's cores this run got: low means other processes took the rest."""
        return (self.worker_cpu_s + self.db_cpu_s) / (self.analyse_s * (os.cpu_count() or 1))

    @property
    def cpu_ms_per_diary(self) -> float:
        """Worker + database CPU per diary: steadier than wall time when the machine is shared."""
        return 1000 * (self.worker_cpu_s + self.db_cpu_s) / self.diaries


def analysed_count(conn: psycopg.Connection) -> int:
    count = conn.execute("SELECT count(*) FROM insights_analysisstate WHERE analysed_at IS NOT NULL").fetchone()[0]
    conn.commit()
    return count


def wait_analysed(conn: psycopg.Connection, expected: int, worker: Worker, db_cpu: BackendCpu | None = None) -> None:
    deadline = time.monotonic() + ANALYSIS_TIMEOUT
    done, progress_at = 0, time.monotonic()
    while (count := analysed_count(conn)) < expected:
        worker.check_alive()
        now = time.monotonic()
        if count > done:
            done, progress_at = count, now
        if now > deadline or now - progress_at > STALL_TIMEOUT:
            raise RuntimeError(f"analysis stalled at {count}/{expected} diaries")
        if db_cpu is not None:
            db_cpu.sample()
        time.sleep(0.1)


def warm_up(conn: psycopg.Connection, worker: Worker) -> None:
    """One single-diary chunk per pool process, so imports and connections are not timed."""
    from insights.tasks import analyse_chunk

    user_ids = [row[0] for row in conn.execute("SELECT user_id FROM diary_profile ORDER BY user_id LIMIT 2")]
    conn.commit()
    for user_id in user_ids:
        analyse_chunk.delay([user_id])
    wait_analysed(conn, len(user_ids), worker)
    reset_analysis(conn)


def run_celery_path(conn: psycopg.Connection, diaries: int, worker_log: Path) -> dict:
    from cramptrack.celery import app
    from insights.tasks import plan_analysis

    app.conf.task_default_queue = QUEUE  # what plan_analysis's analyse_chunk.delay() sends to
    app.control.purge()
    worker = Worker(worker_log)
    try:
        worker.wait_ready()
        warm_up(conn, worker)
        for pid in worker.pids():
            reset_peak(pid)
        cpu_before = cpu_seconds(worker.pids())
        db_cpu = BackendCpu(conn)
        db_cpu.begin()
        me = os.getpid()
        reset_peak(me)
        planner_before = rss_mb(me)

        started = time.perf_counter()
        planned = plan_analysis()
        plan_s = time.perf_counter() - started
        planner_peak = peak_rss_mb(me)
        if planned != diaries:
            raise RuntimeError(f"the planner claimed {planned} diaries, expected {diaries}")
        wait_analysed(conn, diaries, worker, db_cpu)
        analyse_s = time.perf_counter() - started

        pool = worker.pool()
        result = {
            "plan_s": plan_s,
            "analyse_s": analyse_s,
            "worker_cpu_s": cpu_seconds(worker.pids()) - cpu_before,
            "db_cpu_s": db_cpu.total(),
            "pool_peak_rss_mb": [peak_rss_mb(pid) for pid in pool],
            "worker_main_peak_rss_mb": peak_rss_mb(worker.proc.pid),
            "planner_rss_before_mb": planner_before,
            "planner_peak_rss_mb": planner_peak,
        }
    finally:
        worker.stop()
    result["findings"] = conn.execute("SELECT count(*) FROM insights_finding").fetchone()[0]
    conn.commit()
    return result


# --- Baselines in one process -----------------------------------------------------------------


def loop_all(user_ids: list[int], now) -> dict[int, list]:
    """The per-row baseline (bench/analysis_loop.py): every finding of each diary from model instances and plain
    Python loops, one diary at a time."""
    from bench.analysis_loop import loop_findings

    return {uid: loop_findings(uid, now) for uid in user_ids}


def chunked_all(user_ids: list[int], now) -> dict[int, list]:
    """The analysis' chunk path in this process, without storing: SQL aggregates, vectorised maths, wording."""
    from insights.analysis import findings_from
    from insights.chunk import chunk_stats
    from insights.tasks import CHUNK_SIZE

    out = {}
    for start in range(0, len(user_ids), CHUNK_SIZE):
        for diary in chunk_stats(user_ids[start : start + CHUNK_SIZE], now=now):
            out[diary.user_id] = findings_from(diary)
    return out


def timed(fn, *args) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds of this process plus its database backend, and fn's result."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    wall, cpu, db_cpu = time.perf_counter(), time.process_time(), cpu_seconds([backend])
    result = fn(*args)
    cpu_s = time.process_time() - cpu + cpu_seconds([backend]) - db_cpu
    return time.perf_counter() - wall, cpu_s, result


def baselines(sample: list[int]) -> dict:
    from django.utils import timezone

    from insights.models import Finding

    now = timezone.now()
    loop_all(sample[:3], now)  # warm the ORM, scipy and the catalogue before timing
    chunked_all(sample[:3], now)

    loop_wall, loop_cpu, loop = timed(loop_all, sample, now)
    fast_wall, fast_cpu, fast = timed(chunked_all, sample, now)

    # The loop must compute what the analysis computes: every finding, compared field by field.
    agree = sum(1 for uid in sample if [f.as_dict() for f in loop[uid]] == [f.as_dict() for f in fast.get(uid, [])])
    findings = sum(len(v) for v in loop.values())
    stored = Finding.objects.filter(user_id__in=sample).count()
    n = len(sample)
    return {
        "sample": n,
        "agree": agree,
        "findings": findings,
        "stored_findings": stored,
        "loop_s": loop_wall,
        "loop_cpu_s": loop_cpu,
        "loop_diaries_per_s": n / loop_wall,
        "chunked_s": fast_wall,
        "chunked_cpu_s": fast_cpu,
        "chunked_diaries_per_s": n / fast_wall,
    }


# --- Driver ------------------------------------------------------------------------------------


def setup_django(concurrency: int | None) -> None:
    global WORKER_CONCURRENCY
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    WORKER_CONCURRENCY = concurrency or settings.CELERY_WORKER_CONCURRENCY


def run_phase(conn: psycopg.Connection, first_user: int, diaries: int, worker_log: Path) -> Phase:
    """Generate diaries first_user..diaries, then analyse all of them."""
    print(f"generating diaries {first_user}..{diaries} ...", flush=True)
    started = time.perf_counter()
    rows, steps = generate(conn, first_user, diaries)
    generate_s = time.perf_counter() - started
    print(f"  {rows} in {generate_s:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in steps.items())})", flush=True)
    return analyse_phase(conn, diaries, diaries, rows, generate_s, worker_log)


def mark_due(conn: psycopg.Connection, diaries: int) -> int:
    """Make the planner see only the first `diaries` diaries as changed; returns the diaries in the database.

    The generator sets diary_changed_at = created_at (both its transaction's now()), so restoring created_at
    gives back the generator's value."""
    conn.execute(
        "UPDATE diary_profile SET diary_changed_at = NULL WHERE diary_changed_at IS NOT NULL"
        " AND user_id NOT IN (SELECT user_id FROM diary_profile ORDER BY user_id LIMIT %s)",
        (diaries,),
    )
    conn.execute(
        "UPDATE diary_profile SET diary_changed_at = created_at WHERE diary_changed_at IS DISTINCT FROM created_at"
        " AND user_id IN (SELECT user_id FROM diary_profile ORDER BY user_id LIMIT %s)",
        (diaries,),
    )
    total = conn.execute("SELECT count(*) FROM diary_profile").fetchone()[0]
    conn.commit()
    return total


def rerun_first(conn: psycopg.Connection, diaries: int, worker_log: Path) -> Phase:
    """Analyse only the first `diaries` again, on the full database: separates database size from noise."""
    total = mark_due(conn, diaries)
    return analyse_phase(conn, diaries, total, {}, 0.0, worker_log)


def paired_round(conn: psycopg.Connection, sample: list[int], celery_first: bool, worker_log: Path) -> dict:
    """The loop on the sample and the Celery path over every diary, back to back: a slow patch of the shared
    machine then hits both sides of this round's ratio, and alternating the order spreads a drift alike."""
    from django.utils import timezone

    def loop() -> tuple[float, float]:
        wall, cpu, _ = timed(loop_all, sample, timezone.now())
        print(f"  loop: {len(sample) / wall:.0f} diaries/s ({wall:.1f} s)", flush=True)
        return wall, cpu

    def celery() -> Phase:
        total = mark_due(conn, sys.maxsize)  # every diary due again
        return analyse_phase(conn, total, total, {}, 0.0, worker_log)

    if celery_first:
        phase = celery()
        loop_s, loop_cpu_s = loop()
    else:
        loop_s, loop_cpu_s = loop()
        phase = celery()
    n = len(sample)
    return {
        "first": "celery" if celery_first else "loop",
        "sample": n,
        "loop_s": loop_s,
        "loop_cpu_s": loop_cpu_s,
        "loop_diaries_per_s": n / loop_s,
        "loop_cpu_ms_per_diary": 1000 * loop_cpu_s / n,
        "celery": phase_dict(phase),
        "celery_vs_loop": phase.diaries_per_s / (n / loop_s),
        "celery_vs_loop_cpu": (1000 * loop_cpu_s / n) / phase.cpu_ms_per_diary,
    }


def phase_dict(phase: Phase) -> dict:
    """A phase's fields and derived figures, for the JSON."""
    return asdict(phase) | {
        "diaries_per_s": phase.diaries_per_s,
        "ms_per_diary": phase.ms_per_diary,
        "cpu_ms_per_diary": phase.cpu_ms_per_diary,
        "cpu_share": phase.cpu_share,
    }


def analyse_phase(
    conn: psycopg.Connection, diaries: int, total: int, rows: dict, generate_s: float, worker_log: Path
) -> Phase:
    print(f"  analysing {diaries} of {total} diaries through Celery ...", flush=True)
    reset_analysis(conn)
    load = os.getloadavg()
    celery = run_celery_path(conn, diaries, worker_log)
    sql_s, groups = sql_aggregate(conn, diaries)
    phase = Phase(
        diaries=diaries,
        database_diaries=total,
        rows=rows,
        generate_s=generate_s,
        sql_aggregate_s=sql_s,
        sql_groups=groups,
        load_average=load,
        **celery,
    )
    print(
        f"  {phase.diaries_per_s:.0f} diaries/s ({phase.analyse_s:.1f} s, CPU share {phase.cpu_share:.0%})", flush=True
    )
    return phase


@dataclass
class Report:
    diaries: int
    phases: list[Phase]
    loop: dict
    rounds: list[dict]  # paired_round()'s figures
    started_at: str
    broker: str
    cpu_count: int | None = field(default_factory=os.cpu_count)

    def summary(self) -> dict:
        small, large, again = self.phases[0], self.phases[1], self.phases[-1]
        loop = self.loop
        loop_cpu_ms = 1000 * loop["loop_cpu_s"] / loop["sample"]
        # The headline ratios: medians of the paired rounds' own ratios.
        vs_loop = statistics.median(r["celery_vs_loop"] for r in self.rounds)
        vs_loop_cpu = statistics.median(r["celery_vs_loop_cpu"] for r in self.rounds)
        return {
            "diaries_per_s": {p.diaries: p.diaries_per_s for p in self.phases[:2]},
            "scaling_wall": large.ms_per_diary / small.ms_per_diary,
            "scaling_cpu": large.cpu_ms_per_diary / small.cpu_ms_per_diary,
            # The small run again, on the full database: isolates database size from machine noise.
            "scaling_wall_same_db": large.ms_per_diary / again.ms_per_diary,
            "scaling_cpu_same_db": large.cpu_ms_per_diary / again.cpu_ms_per_diary,
            "pool_peak_rss_mb": max(large.pool_peak_rss_mb),
            "worker_total_peak_rss_mb": large.worker_main_peak_rss_mb + sum(large.pool_peak_rss_mb),
            "planner_peak_rss_mb": large.planner_peak_rss_mb,
            "paired_rounds": len(self.rounds),
            "celery_vs_loop": vs_loop,
            "worker_concurrency": WORKER_CONCURRENCY,
            "celery_per_process_vs_loop": vs_loop / WORKER_CONCURRENCY,
            "celery_vs_loop_cpu": vs_loop_cpu,
            # The N-diary phase against the baselines' loop, measured at different moments: noisy, for reference.
            "unpaired_celery_vs_loop": large.diaries_per_s / loop["loop_diaries_per_s"],
            "unpaired_celery_vs_loop_cpu": loop_cpu_ms / large.cpu_ms_per_diary,
            "chunked_vs_loop": loop["chunked_diaries_per_s"] / loop["loop_diaries_per_s"],
            "chunked_vs_loop_cpu": loop["loop_cpu_s"] / loop["chunked_cpu_s"],
            "analysis_vs_sql_aggregate": large.analyse_s / large.sql_aggregate_s,
            # What 2 dedicated cores would give at the measured CPU cost per diary.
            "diaries_per_s_at_full_cpu": (os.cpu_count() or 1) * 1000 / large.cpu_ms_per_diary,
            # Two readings of ">= 20x a per-row loop": the Celery path's diaries/s on its pool processes against
            # the loop's in one process, and CPU per diary (worker + PostgreSQL against loop + its backend).
            "budget_vs_loop_diaries_per_s_met": vs_loop >= TARGET_VS_LOOP,
            "budget_vs_loop_cpu_met": vs_loop_cpu >= TARGET_VS_LOOP,
            "budget_linear_met": large.cpu_ms_per_diary / small.cpu_ms_per_diary <= TARGET_SCALING,
        }


def print_report(report: Report) -> None:
    s = report.summary()
    print()
    print(
        f"{'diaries':>8} {'in db':>6} {'gen s':>6} {'plan s':>6} {'analyse s':>9} {'diaries/s':>9} {'ms/diary':>8} "
        f"{'CPU ms/d':>8} {'CPU share':>9} {'pool peak MB':>12} {'planner MB':>10} {'SQL agg s':>9} {'/SQL':>5} "
        f"{'load':>5}"
    )
    for p in report.phases:
        pool = "/".join(f"{m:.0f}" for m in p.pool_peak_rss_mb)
        print(
            f"{p.diaries:>8} {p.database_diaries:>6} {p.generate_s:>6.0f} {p.plan_s:>6.2f} {p.analyse_s:>9.1f} "
            f"{p.diaries_per_s:>9.0f} {p.ms_per_diary:>8.2f} {p.cpu_ms_per_diary:>8.2f} {p.cpu_share:>9.0%} "
            f"{pool:>12} {p.planner_peak_rss_mb:>10.0f} {p.sql_aggregate_s:>9.3f} "
            f"{p.analyse_s / p.sql_aggregate_s:>5.0f} {p.load_average[0]:>5.1f}"
        )
    print(
        "(CPU ms/d: worker + PostgreSQL backend CPU per diary; CPU share: of all cores during the run;"
        " load: 1-min load average at the start)"
    )
    first, last = report.phases[0].diaries, report.phases[1].diaries
    print(
        f"\nscaling {first} -> {last}: per-diary cost x{s['scaling_wall']:.2f} wall, "
        f"x{s['scaling_cpu']:.2f} CPU; against {first} re-run on the full database x{s['scaling_wall_same_db']:.2f} "
        f"wall, x{s['scaling_cpu_same_db']:.2f} CPU (linear = 1.0)"
    )
    print(f"at the measured CPU cost, {os.cpu_count()} dedicated cores: {s['diaries_per_s_at_full_cpu']:.0f} diaries/s")
    loop, n = report.loop, report.loop["sample"]
    print(
        f"\none process, the same {n} diaries, every rule ({loop['findings']} findings; the loop's equal the "
        f"chunked path's for {loop['agree']}/{n} diaries; {loop['stored_findings']} stored by the worker):"
    )
    for label, key in (
        ("per-row ORM loop", "loop"),
        ("chunked SQL + vectorised", "chunked"),
    ):
        ratio = loop[f"{key}_diaries_per_s"] / loop["loop_diaries_per_s"]
        print(
            f"  {label:<28} {loop[f'{key}_diaries_per_s']:>6.0f} diaries/s  "
            f"{1000 * loop[f'{key}_cpu_s'] / n:>6.1f} CPU ms/diary  x{ratio:.1f}"
        )
    print(f"analysis time / plain SQL aggregate: x{s['analysis_vs_sql_aggregate']:.0f}")
    print_rounds(report)  # the headline, last


def print_rounds(report: Report) -> None:
    s, n = report.summary(), report.rounds[0]["sample"]
    print(
        f"\npaired rounds: the loop on the {n} diaries and the Celery path ({WORKER_CONCURRENCY} processes, every rule,"
        f" stored) on all {report.phases[1].diaries}, back to back:"
    )
    print(
        f"{'round':>5} {'first':>6} {'loop d/s':>8} {'loop CPU ms/d':>13} {'Celery d/s':>10} {'CPU ms/d':>8} "
        f"{'CPU share':>9} {'x loop d/s':>10} {'x loop CPU':>10}"
    )
    for i, r in enumerate(report.rounds, 1):
        c = r["celery"]
        print(
            f"{i:>5} {r['first']:>6} {r['loop_diaries_per_s']:>8.1f} {r['loop_cpu_ms_per_diary']:>13.1f} "
            f"{c['diaries_per_s']:>10.0f} {c['cpu_ms_per_diary']:>8.2f} {c['cpu_share']:>9.0%} "
            f"{r['celery_vs_loop']:>10.1f} {r['celery_vs_loop_cpu']:>10.1f}"
        )
    rounds = f"median of {len(report.rounds)} round{'s' if len(report.rounds) > 1 else ''}"
    met = {True: "met", False: "missed"}
    print(
        f"Celery path vs the loop ({rounds}): x{s['celery_vs_loop']:.1f} diaries/s"
        f" (x{s['celery_per_process_vs_loop']:.1f} per process), x{s['celery_vs_loop_cpu']:.1f} by CPU"
    )
    print(
        f"budget >= x{TARGET_VS_LOOP:.0f} at {report.phases[1].diaries} diaries ({rounds}):"
        f" by diaries/s ({WORKER_CONCURRENCY} processes vs the loop in one)"
        f" {met[s['budget_vs_loop_diaries_per_s_met']]}; by CPU per diary {met[s['budget_vs_loop_cpu_met']]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diaries", type=int, default=10_000, help="diaries in the large run (default 10000)")
    parser.add_argument("--quick", action="store_true", help="500 diaries: a smoke run")
    parser.add_argument("--keep-db", action="store_true", help=f"leave the {BENCH_DB} database in place")
    parser.add_argument(
        "--concurrency", type=int, help="worker pool processes (default: production's CELERY_WORKER_CONCURRENCY)"
    )
    parser.add_argument("--rounds", type=int, help=f"paired loop/Celery rounds (default {PAIRED_ROUNDS}; --quick: 1)")
    parser.add_argument(
        "--shared-redis", action="store_true", help=f"use {SHARED_REDIS_URL} instead of a private redis-server"
    )
    args = parser.parse_args()
    diaries = 500 if args.quick else args.diaries
    rounds = args.rounds if args.rounds is not None else 1 if args.quick else PAIRED_ROUNDS
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    sizes = [max(diaries // 10, 2), diaries]

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    worker_log = RESULTS_DIR / "analysis-worker.log"
    worker_log.write_text("")
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    create_database()
    private_redis = None if args.shared_redis else PrivateRedis()
    if private_redis:
        ENV["REDIS_URL"] = private_redis.url
    setup_django(args.concurrency)
    try:
        with psycopg.connect(DATABASE_URL) as conn:
            phases = []
            first = 1
            for size in sizes:  # fresh data for each size: N/10 diaries, then the rest up to N
                phases.append(run_phase(conn, first, size, worker_log))
                first = size + 1
            user_ids = [row[0] for row in conn.execute("SELECT user_id FROM diary_profile ORDER BY user_id")]
            conn.commit()
            step = max(len(user_ids) // LOOP_SAMPLE, 1)
            sample = user_ids[::step][:LOOP_SAMPLE]
            print(f"baselines on {len(sample)} diaries ...", flush=True)
            loop = baselines(sample)  # before the re-run below replaces the stored findings
            phases.append(rerun_first(conn, sizes[0], worker_log))
            paired = []
            for i in range(rounds):
                print(f"paired round {i + 1} of {rounds} ...", flush=True)
                paired.append(paired_round(conn, sample, celery_first=i % 2 == 1, worker_log=worker_log))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database()
        if private_redis:
            private_redis.stop()

    report = Report(
        diaries=diaries, phases=phases, loop=loop, rounds=paired, started_at=started_at, broker=ENV["REDIS_URL"]
    )
    print_report(report)
    out = RESULTS_DIR / "analysis.json"
    data = asdict(report) | {"phases": [phase_dict(phase) for phase in report.phases]}
    data["summary"] = report.summary()
    data["utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out.write_text(json.dumps(data, indent=2, default=str))
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
