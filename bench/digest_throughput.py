"""Weekly emails per second in one worker process, through the real path, into a local SMTP server.

    .venv/bin/python bench/digest_throughput.py [--people 2000]

Budget: >= 100 emails a second per worker process, 0 duplicates.

A fresh database (BENCH_DIGEST_DATABASE_URL, default PostgreSQL cramptrack_bench_digest,
dropped and recreated; a sqlite:/// URL works too) gets N people due now, each with five
weeks of check-ins and cramps, and findings that take every branch of the templates. An
aiosmtpd server runs in its own process. This process then does what a beat tick and the
`notifications.send_digests` tasks do: `delivery.plan_all()`, then `delivery.send_batch()` over
chunks of `tasks.DIGEST_CHUNK` ids, each over its own SMTP connection. A second tick must
send nothing. Prints emails/s (wall) and this process's CPU per email.
"""

import argparse
import cProfile
import multiprocessing
import os
import pstats
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DIGEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cramptrack_bench_digest")
BUDGET = 100  # emails a second per worker process
ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]


def smtp_server(port: int, ready, stop, results) -> None:
    """A local SMTP server that keeps each message's recipient and Message-ID."""
    from aiosmtpd.controller import Controller

    received: list[tuple[str, str]] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            head = envelope.content.split(b"\r\n\r\n", 1)[0].decode()
            message_id = next(line for line in head.splitlines() if line.lower().startswith("message-id:"))
            received.append((envelope.rcpt_tos[0], message_id))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    results.send((received, time.process_time()))


def database_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (it runs on this host)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def fresh_database(url: str = DATABASE_URL) -> None:
    """Drop and recreate the benchmark's database (PostgreSQL), or delete its file (SQLite)."""
    if url.startswith("postgres"):
        import psycopg

        server, name = url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def populate(people: int) -> None:
    """People due a minute ago in five zones, with verified addresses and five weeks of diary."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import User
    from diary.localtime import local_today
    from diary.models import CheckIn, Episode, Profile
    from insights.models import Finding

    rng = random.Random(42)
    now = timezone.now()
    users = User.objects.bulk_create(
        [User(email=f"p{n}@example.test", password="!") for n in range(people)]  # noqa: S106
    )
    profiles = [
        Profile(user=user, timezone=ZONES[n % 5], digest_weekday=n % 7, digest_next_at=now - timedelta(minutes=1))
        for n, user in enumerate(users)
    ]
    Profile.objects.bulk_create(profiles)  # bulk_create sends no post_save: no profile exists yet
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users]
    )
    checkins, episodes, findings = [], [], []
    for n, user in enumerate(users):
        today = local_today(profiles[n].zone)
        for back in range(1, 36):
            night = today - timedelta(days=back)
            cramps = min(3, int(rng.expovariate(2.5)))
            if rng.random() < 0.8:
                checkins.append(CheckIn(user=user, date=night, no_cramps=cramps == 0))
            for k in range(cramps):
                started = now - timedelta(days=back - 1, hours=8 - k)
                episodes.append(
                    Episode(
                        user=user, started_at=started, timezone=profiles[n].timezone, night=night,
                        muscle="calf", side="left",
                        severity=rng.randint(1, 10), duration_minutes=rng.randint(1, 10),
                    )
                )  # fmt: skip
        if n % 20 == 0:
            findings.append(
                Finding(
                    user=user, key="R02", rule="R02", trigger="tr_overuse_exertion",
                    status="possible_pattern_higher", rank=1, analysis_version="1", analysed_at=now,
                    message="Possible pattern: on nights after harder exercise you logged cramps about 2.1x as "
                    "often (30 cramps in 40 nights vs 28 in 80 other nights; 95% interval 1.2 to 3.6).",
                    tip="Build up training gradually.", source="Based on: Miller 2022",
                )
            )  # fmt: skip
        if n % 200 == 7:
            findings.append(
                Finding(
                    user=user, key="R13:swelling", rule="R13", trigger="rf_dvt", status="escalation",
                    escalation="E1", rank=0, analysis_version="1", analysed_at=now, source="Based on: NICE CKS",
                    message="You reported a swollen, red or warm calf with a cramp. Get medical help today.",
                )
            )  # fmt: skip
    CheckIn.objects.bulk_create(checkins, batch_size=5000)
    Episode.objects.bulk_create(episodes, batch_size=5000)
    Finding.objects.bulk_create(findings)


def tick() -> tuple[int, dict]:
    """One beat tick and every task it queues, in this process."""
    from collections import Counter

    from notifications import delivery, tasks

    outcomes: Counter = Counter()
    for ids in delivery.plan_all():
        for start in range(0, len(ids), tasks.DIGEST_CHUNK):
            outcomes.update(delivery.send_batch(ids[start : start + tasks.DIGEST_CHUNK]).values())
    return sum(outcomes.values()), dict(outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="print where the worker's time goes (slower)")
    args = parser.parse_args()

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench"),
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="cramptrack.settings",
    )
    sys.path.insert(0, str(ROOT))
    fresh_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    populate(args.people)
    # A worker imports its tasks, SciPy included, once at start, untimed.
    import insights.tasks  # noqa: F401
    import notifications.tasks  # noqa: F401

    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    results, results_in = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=smtp_server, args=(port, ready, stop, results_in))
    server.start()
    ready.wait(10)
    try:
        profiler = cProfile.Profile() if args.profile else None
        db_cpu, wall, cpu = database_cpu(), time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        tried, outcomes = tick()
        if profiler:
            profiler.disable()
        wall, cpu, db_cpu = time.perf_counter() - wall, time.process_time() - cpu, database_cpu() - db_cpu
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        again, _ = tick()
    finally:
        stop.set()
        received, smtp_cpu = results.recv()
        server.join()

    sent = outcomes.get("sent", 0)
    recipients = [to for to, _ in received]
    duplicates = len(received) - len(set(recipients))
    rate = sent / wall
    print(f"database        {connection.vendor}")
    print(f"people due      {args.people}")
    print(f"outcomes        {outcomes}")
    print(f"received        {len(received)} messages, {len(set(recipients))} recipients, {duplicates} duplicates")
    print(f"second tick     {again} tried")
    print(f"wall            {wall:.2f} s: {rate:.0f} emails/s (budget >= {BUDGET})")
    per_email = [seconds / max(sent, 1) * 1000 for seconds in (cpu, smtp_cpu, db_cpu)]
    print("CPU per email   {:.2f} ms worker, {:.2f} ms SMTP server, {:.2f} ms database".format(*per_email))
    # One email at a time, each waiting on the server and the database: on an idle machine the wall
    # time per email is about the sum of the three (plus the commits' flushes).
    print(f"idle-machine    about {1000 / sum(per_email):.0f} emails/s from that CPU (a load-free estimate)")
    ok = sent == args.people == len(received) and duplicates == 0 and again == 0 and rate >= BUDGET
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
