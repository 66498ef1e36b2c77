"""Import budget: a 10 MB spreadsheet of episodes through diary.importer, as POST /api/v1/import/ runs it.

    make bench-import                      # a 10 MB export of episodes, then the same file again
    .venv/bin/python bench/import_speed.py --shape minimal --megabytes 1 --profile

The first import creates every row; the second finds every row already there (the idempotent
re-import). Shapes: `export` is CrampTrack's own CSV export (every column, ids, times with
offsets); `minimal` is a hand-made spreadsheet (six columns, local times, no ids). The database
is DATABASE_URL's if set, else postgres://postgres@127.0.0.1:5432/cramptrack_bench_import; either way it
is dropped and recreated. Writes bench/results/import-SHAPE.json.
"""

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cramptrack_bench_import")


def spreadsheet(megabytes: float, shape: str, columns: list[str], seed: int = 5) -> bytes:
    """Episodes as CrampTrack's own CSV export writes them (`export`: every column, ids, offsets), or
    as a hand-made spreadsheet (`minimal`: six columns, local times, no ids: twice the rows per MB)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    minimal = ["started_at", "muscle", "side", "severity", "duration_minutes", "context", "notes"]
    writer.writerow(minimal if shape == "minimal" else columns)
    moment = datetime(1950, 1, 2, 2, 0, tzinfo=UTC)  # the earliest the diary takes: room for 10 MB
    while out.tell() < megabytes * 1_000_000:
        moment += timedelta(minutes=rng.randint(30, 300))
        row = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "started_at": f"{moment:%Y-%m-%d %H:%M}" if shape == "minimal" else moment.isoformat(),
            "timezone": "UTC",
            "muscle": rng.choice(["calf", "foot", "hamstring"]),
            "side": rng.choice(["left", "right", "both"]),
            "severity": rng.randint(1, 10),
            "duration_minutes": rng.randint(1, 15),
            "context": "woke_from_sleep",
            "time_approximate": "no",
            "notes": rng.choice(["", "", "", "woke me, stretched it out", "after a long walk"]),
        }
        header = minimal if shape == "minimal" else columns
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode()


def load_average() -> list[float]:
    """The machine's load: on a shared machine, other work shows in the seconds, not in the CPU."""
    return [round(load, 2) for load in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--shape", choices=["export", "minimal"], default="export")
    parser.add_argument("--profile", action="store_true", help="print the 25 most expensive calls of the first import")
    args = parser.parse_args()

    server = urlsplit(DATABASE_URL)
    where = ["-h", server.hostname or "127.0.0.1", "-p", str(server.port or 5432), "-U", server.username or "postgres"]
    database = server.path.lstrip("/")
    subprocess.run(["dropdb", "--if-exists", *where, database], check=True)
    subprocess.run(["createdb", *where, database], check=True)
    os.environ.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="cramptrack.settings")
    os.environ.update(SECRET_KEY="bench", DEBUG="0", LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="1")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from diary import importer
    from diary.exporter import EPISODE_COLUMNS
    from diary.models import Episode

    user = User.objects.create_user(email="importer@example.org", password="bench-password-1")  # noqa: S106
    data = spreadsheet(args.megabytes, args.shape, EPISODE_COLUMNS)
    rows = data.count(b"\n") - 1
    print(f"{args.shape} spreadsheet: {len(data) / 1e6:.1f} MB, {rows:,} episode rows")

    results = {"shape": args.shape, "megabytes": round(len(data) / 1e6, 2), "rows": rows}
    results["load_before"] = load_average()
    for run in ("first", "again"):
        profiler = cProfile.Profile() if args.profile and run == "first" else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        report = importer.import_sources(user, importer.sources_from_uploads([("episodes.csv", data)]))
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        results[f"{run}_seconds"], results[f"{run}_app_cpu_seconds"] = round(seconds, 1), round(cpu, 1)
        print(
            f"{run} import: {seconds:.1f} s ({cpu:.1f} s of this process's CPU), "
            f"created {report.created['episodes']:,}, unchanged {report.unchanged['episodes']:,}"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(25)
    assert Episode.objects.filter(user=user).count() == rows
    results["load_after"] = load_average()
    print(f"load average (1, 5, 15 min) before {results['load_before']}, after {results['load_after']}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"import-{args.shape}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
