"""Analysis budget: one-year diaries through insights.refresh.analyse_and_store.

    make bench-analysis                        # N = 10,000 diaries, about 15 minutes on 2 cores
    make bench-analysis BENCH_ARGS=--quick     # N = 1,000, about a minute (or --diaries N)

(a) CPU per diary of analyse_and_store on chunks of 100: the app's process time plus, on PostgreSQL, the
    backend's (utime + stime of pg_backend_pid() in /proc); SQLite runs in-process, so its app time is all.
(b) N diaries through a real Celery worker fed by plan_analysis, with 1 then 2 pool processes: wall time.
(c) Linearity: per-diary CPU and wall time with N diaries in the database against N/10.
PostgreSQL at postgres://postgres@127.0.0.1:5432/ (the database cramptrack_bench_analysis is dropped and
recreated), a private redis-server on a free port, SQLite in a temporary file. Writes bench/results/analysis.json.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
PG_DB = "cramptrack_bench_analysis"
CHUNK, BATCH, NIGHTS = 100, 500, 365
ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
CLOCK = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60)]


def setup_django(database_url: str, redis_url: str = "") -> None:
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="cramptrack.settings")
    os.environ.update(SECRET_KEY="bench", DEBUG="0", LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="0")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# --- Data: night-major rows (as a live table fills), written with COPY (PostgreSQL) or executemany (SQLite) ---


def write(model, columns: dict) -> None:
    """Insert rows: the given columns (lists, or one value for every row), every other field at its default."""
    from django.db import connection, transaction

    n = max(len(v) for v in columns.values() if isinstance(v, list))
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    data = [columns.get(f.attname, f.get_default()) for f in fields]
    rows = zip(*(v if isinstance(v, list) else [v] * n for v in data), strict=True)
    table, names = model._meta.db_table, ", ".join(f.column for f in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row FK triggers: rows are valid
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.execute("PRAGMA cache_size = -500000")  # 500 MB while loading: the default 2 MB thrashes
            marks = ", ".join("?" * len(fields))
            cursor.cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
            cursor.execute("PRAGMA cache_size = -2000")


def sometimes(rng, values: np.ndarray, share: float) -> list:
    """Values as Python objects, None (not recorded) on a (1 - share) part of them."""
    out = values.astype(object)
    out[rng.random(values.shape) >= share] = None
    return out.tolist()


def utc_offsets(start: date) -> np.ndarray:
    """Seconds east of UTC per zone and night, at the local midnight that follows the night."""
    midnights = [datetime.combine(start + timedelta(days=d + 1), datetime.min.time()) for d in range(NIGHTS)]
    return np.array([[ZoneInfo(z).utcoffset(t).total_seconds() for t in midnights] for z in ZONES], dtype=int)


def generate(first: int, count: int, rng) -> list[int]:
    """Bulk-write one-year diaries bench<first>..; returns their user ids."""
    from django.utils import timezone

    from accounts.models import User
    from diary.models import CheckIn, DoseChange, Episode, MedicationCourse, Profile

    now, start = timezone.now(), date.today() - timedelta(days=NIGHTS)
    stamp, days = now.strftime("%Y-%m-%d %H:%M:%S"), np.datetime64(start) + np.arange(NIGHTS)
    ids = []
    for base in range(first, first + count, BATCH):
        b = min(BATCH, first + count - base)
        users = User.objects.bulk_create([User(email=f"bench{base + i}@example.com", password="!") for i in range(b)])
        uid, zone = np.array([u.pk for u in users]), np.arange(b) % len(ZONES)
        Profile.objects.bulk_create(
            Profile(user_id=u, timezone=ZONES[i % len(ZONES)], birth_year=1940 + i % 50, has_diabetes=i % 10 == 0,
                    diary_changed_at=now) for i, u in enumerate(uid.tolist())
        )  # fmt: skip
        # A statin for one in 5 (a third of them with a dose increase 60 days in), magnesium for one in 7.
        courses = [
            MedicationCourse(user_id=u, name=name, drug_class=name.lower(), started_on=start + timedelta(days=int(day)))
            for name, who, low in (("Statin", uid[::5], 120), ("Magnesium", uid[3::7], 60))
            for u, day in zip(who.tolist(), rng.integers(low, 250, who.size), strict=True)
        ]  # fmt: skip
        MedicationCourse.objects.bulk_create(courses)
        DoseChange.objects.bulk_create(
            DoseChange(course=c, changed_on=c.started_on + timedelta(days=60), direction="increase")
            for c in courses[::3]
        )

        # Nights, shape (NIGHTS, b), night-major as a live table fills: geometric cramp counts (overdispersed)
        # around a personal rate, with bad weeks (clusters), x2 on cold-feet nights, x1.5 after an hour of exercise.
        shape = (NIGHTS, b)
        exercise = np.where(rng.random(shape) < 0.4, 0, rng.integers(10, 110, shape))
        feet_cold = rng.random(shape) < 0.2
        weeks = np.repeat(rng.gamma(2.0, 0.5, (NIGHTS // 7 + 1, b)), 7, axis=0)[:NIGHTS]
        mean = rng.gamma(2.0, 0.2, b) * weeks * np.where(feet_cold, 2.0, 1.0) * np.where(exercise >= 60, 1.5, 1.0)
        cramps = np.minimum(rng.geometric(1 / (1 + mean)) - 1, 6)
        night, user = np.broadcast_to(days[:, None], shape), np.broadcast_to(uid, shape)
        checked = rng.random(shape) < 0.9  # about 330 check-ins a year, 5% of them with "any cramps?" unanswered
        n = int(checked.sum())
        write(CheckIn, {
            "uuid": [f"{base:016x}{i:016x}" for i in range(n)],
            "user_id": user[checked].tolist(),
            "date": night[checked].astype(str).tolist(),
            "no_cramps": np.where(rng.random(n) < 0.05, None, cramps[checked] == 0).tolist(),
            "bedtime": [CLOCK[m] for m in rng.integers(22 * 60, 23 * 60 + 30, n)],
            "wake_time": [CLOCK[m] for m in rng.integers(6 * 60, 7 * 60 + 30, n)],
            "exercise_minutes": sometimes(rng, exercise[checked], 0.85),
            "exercise_intensity": sometimes(rng, rng.integers(0, 11, n), 0.5),
            "steps": sometimes(rng, rng.integers(1500, 16000, n), 0.4),
            "fluids_cups": sometimes(rng, np.round(rng.uniform(3, 12, n), 1), 0.8),
            "heavy_sweating": sometimes(rng, rng.random(n) < 0.1, 0.3),
            "feet_cold": sometimes(rng, feet_cold[checked], 0.7),
            "hours_sitting": sometimes(rng, np.round(rng.uniform(2, 12, n), 1), 0.6),
            "hours_standing": sometimes(rng, np.round(rng.uniform(0, 8, n), 1), 0.5),
            "stress": sometimes(rng, rng.integers(0, 11, n), 0.5),
            "sleep_hours": sometimes(rng, np.round(rng.uniform(4, 9, n), 1), 0.6),
            "sleep_disturbance": sometimes(rng, rng.integers(0, 11, n), 0.7),
            "stretched_before_bed": sometimes(rng, rng.random(n) < 0.3, 0.5),
            "created_at": stamp, "updated_at": stamp,
        })  # fmt: skip

        # Episodes start at local 22:30 to 06:30, so that `night` agrees with diary.localtime.night_of.
        k = cramps.ravel()
        n = int(k.sum())
        e_night, e_user = np.repeat(night.ravel(), k), np.repeat(user.ravel(), k)
        e_zone = np.repeat(np.broadcast_to(zone, shape).ravel(), k)
        utc = e_night.astype("datetime64[s]") + 81000 + rng.integers(0, 8 * 3600, n)
        utc -= utc_offsets(start)[e_zone, (e_night - days[0]).astype(int)]
        write(Episode, {
            "uuid": [f"{base:016x}{i:016x}" for i in range(n)],
            "user_id": e_user.tolist(),
            "night": e_night.astype(str).tolist(),
            "timezone": [ZONES[z] for z in e_zone.tolist()],
            "started_at": np.char.replace(utc.astype(str), "T", " ").tolist(),
            "muscle": rng.choice(["calf", "calf", "calf", "foot", "toes", "hamstring"], n).tolist(),
            "side": rng.choice(["left", "right", "both"], n).tolist(),
            "duration_minutes": sometimes(rng, np.round(rng.uniform(0.5, 5, n), 1), 0.7),
            "severity": sometimes(rng, rng.integers(1, 11, n), 0.8),
            "context": rng.choice(["woke_from_sleep", "woke_from_sleep", "lying_awake", ""], n).tolist(),
            "hard_knot": sometimes(rng, rng.random(n) < 0.6, 0.5),
            "created_at": stamp, "updated_at": stamp,
        })  # fmt: skip
        ids += uid.tolist()
    return ids


# --- Measures ---


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (/proc/<pid>/stat), 0 if it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends(mine: bool) -> list[int]:
    """PostgreSQL backends on the bench database: this connection's, or every other one (none on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND (pid = pg_backend_pid()) = %s",
            [mine],
        )
        return [pid for (pid,) in cursor.fetchall()]


def cpu_per_diary(ids: list[int]) -> dict:
    """(a) analyse_and_store over ids in chunks, after one untimed chunk (imports, caches, connection)."""
    from insights.refresh import analyse_and_store

    analyse_and_store(ids[:CHUNK])
    app, db = time.process_time(), sum(map(cpu_seconds, backends(mine=True)))
    for i in range(0, len(ids), CHUNK):
        analyse_and_store(ids[i : i + CHUNK])
    app, db = time.process_time() - app, sum(map(cpu_seconds, backends(mine=True))) - db
    return {"diaries": len(ids), "app_ms": 1000 * app / len(ids), "db_ms": 1000 * db / len(ids)}


def through_celery(n: int, concurrency: int, log) -> dict:
    """(b) Every diary due, a fresh worker, plan_analysis, then wait until all n are analysed."""
    from django.utils import timezone

    from cramptrack.celery import app
    from diary.models import Profile
    from insights.models import AnalysisState
    from insights.tasks import plan_analysis

    Profile.objects.update(diary_changed_at=timezone.now())
    cmd = [Path(sys.executable).parent / "celery", "-A", "cramptrack", "worker", "--loglevel", "WARNING"]
    cmd += ["--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat"]
    # The pool keeps its backends for the whole run (production drops them after CONN_MAX_AGE = 60 s), so that
    # their CPU can be read at the end.
    env = {**os.environ, "CONN_MAX_AGE": "3600"}
    worker = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}; see {log.name}")
        pool = [worker.pid, *map(int, Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split())]
        before = {pid: cpu_seconds(pid) for pid in pool + backends(mine=False)}
        started, clock = timezone.now(), time.perf_counter()
        plan_analysis()
        while AnalysisState.objects.filter(analysed_at__gte=started).count() < n:
            if worker.poll() is not None or time.perf_counter() - clock > 1800:
                raise RuntimeError(f"the worker stopped or stalled; see {log.name}")
            time.sleep(0.1)
        wall = time.perf_counter() - clock
        app_cpu = sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in pool)
        db_cpu = sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in backends(mine=False))
    finally:
        worker.terminate()
        worker.wait()
    return {"diaries": n, "processes": concurrency, "wall_s": wall, "per_s": n / wall,
            "app_ms": 1000 * app_cpu / n, "db_ms": 1000 * db_cpu / n}  # fmt: skip


# --- Phases, each in its own process (Django's settings are per process) ---


def sqlite_phase(n: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        setup_django(f"sqlite:///{folder}/bench.sqlite3")
        from django.db import connection

        ids = generate(0, n, np.random.default_rng(1))
        connection.cursor().execute("ANALYZE")
        return {f"cpu_{n}": cpu_per_diary(ids)}


def postgres_phase(n: int) -> dict:
    import psycopg

    with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        setup_django(PG_SERVER + PG_DB, f"redis://127.0.0.1:{port}/0")
        from django.db import connection

        rng, small, out = np.random.default_rng(1), n // 10, {}
        with open(ROOT / "bench" / "results" / "analysis-worker.log", "w") as log:
            first = generate(0, small, rng)
            connection.cursor().execute("VACUUM ANALYZE")
            out[f"celery_{small}_2"] = through_celery(small, 2, log)
            out[f"cpu_{small}"] = cpu_per_diary(first)
            generate(small, n - small, rng)
            connection.cursor().execute("VACUUM ANALYZE")
            out[f"cpu_{n}"] = cpu_per_diary(first)  # the same diaries, with ten times as many in the database
            for processes in (1, 2):
                out[f"celery_{n}_{processes}"] = through_celery(n, processes, log)
        connection.close()
        return out
    finally:
        redis.terminate()
        with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def in_process(phase, n: int) -> dict:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(phase, n).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diaries", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 diaries")
    args = parser.parse_args()
    n = 1000 if args.quick else args.diaries
    small = n // 10
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    lite = in_process(sqlite_phase, small)[f"cpu_{small}"]
    pg = in_process(postgres_phase, n)
    cpu, one, two, two_small = pg[f"cpu_{small}"], pg[f"celery_{n}_1"], pg[f"celery_{n}_2"], pg[f"celery_{small}_2"]
    ms = {k: v["app_ms"] + v["db_ms"] for k, v in [("pg", cpu), ("pg_n", pg[f"cpu_{n}"]), ("sqlite", lite),
                                                   ("celery", two), ("celery_small", two_small)]}  # fmt: skip
    summary = {
        "pg_cpu_ms": ms["pg"],
        "sqlite_cpu_ms": ms["sqlite"],
        "celery_cpu_ms": ms["celery"],
        "second_process_gain": two["per_s"] / one["per_s"],
        "cpu_linearity": ms["pg_n"] / ms["pg"],
        "celery_cpu_linearity": ms["celery"] / ms["celery_small"],
        "wall_linearity": (two["wall_s"] / n) / (two_small["wall_s"] / small),
        "load_average": os.getloadavg()[2],
    }
    print(f"\nAnalysis budget: {n:,} one-year diaries, {os.cpu_count()} cores")
    for label, figure, budget in [
        (
            "CPU/diary, PostgreSQL: app + db",
            f"{cpu['app_ms']:.1f} + {cpu['db_ms']:.1f} = {ms['pg']:.1f} ms",
            "<= 15 ms",
        ),
        ("CPU/diary, SQLite (in-process)", f"{ms['sqlite']:.1f} ms", "same order"),
        ("CPU/diary, Celery (workers + db)", f"{two['app_ms']:.1f} + {two['db_ms']:.1f} = {ms['celery']:.1f} ms", ""),
        ("Celery, 1 process", f"{one['wall_s']:.0f} s, {one['per_s']:.0f} diaries/s", ""),
        ("Celery, 2 processes", f"{two['wall_s']:.0f} s, {two['per_s']:.0f} diaries/s", f"<= {180 * n // 10_000} s"),
        ("gain from the second process", f"{summary['second_process_gain']:.2f}x", "near 2x"),
        (f"CPU/diary, {n:,} vs {small:,} stored", f"{summary['cpu_linearity']:.2f}x", "~1x"),
        (f"Celery CPU/diary, {n:,} vs {small:,}", f"{summary['celery_cpu_linearity']:.2f}x", "~1x"),
        (f"Celery wall/diary, {n:,} vs {small:,}", f"{summary['wall_linearity']:.2f}x", "~1x"),
    ]:
        print(f"  {label:<36} {figure:<28} {budget}")
    print(f"  (load average over 15 min: {summary['load_average']:.1f}; a busy machine slows the wall times)")
    result = {"diaries": n, "summary": summary, "postgresql": pg, "sqlite": lite, "at": datetime.now().isoformat()}
    (ROOT / "bench" / "results" / "analysis.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
