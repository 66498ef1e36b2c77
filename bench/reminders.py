"""Morning reminders planned and sent per second, through the real path, into a local Web Push receiver.

    .venv/bin/python bench/reminders.py [--people 10000]

Budget: >= 100 reminders a second per worker process, 0 duplicates.

A fresh database (BENCH_REMINDERS_DATABASE_URL, default PostgreSQL cramptrack_bench_reminders, dropped and
recreated; a sqlite:/// URL works too) gets N people in five zones whose reminder is due this minute, each
with one push subscription to a receiver running in its own process (an HTTP/1.1 server answering 201
Created as RFC 8030 says; it counts messages per subscription and checks each carries a VAPID authorization
and an aes128gcm body, without decrypting: the tests do that). This process then does what a beat tick
and its `notifications.send_reminders` tasks do: `reminders.plan_all()`, then `reminders.send_batch()` over
chunks of `tasks.REMINDER_CHUNK` ids, each with its own HTTP session. A second tick must send nothing.
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.digest_throughput import database_cpu, fresh_database  # noqa: E402  (the same harness as the weekly email's)

DATABASE_URL = os.environ.get(
    "BENCH_REMINDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cramptrack_bench_reminders"
)
BUDGET = 100  # reminders a second per worker process
ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Pacific/Auckland"]


def push_receiver(port: int, ready, stop, results) -> None:
    """A Web Push service on 127.0.0.1:port: 201 for each well-formed message, counted per subscription."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Lock, Thread

    counts: Counter = Counter()
    refused: Counter = Counter()
    lock = Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            well_formed = (
                self.headers.get("Authorization", "").startswith("vapid t=")
                and self.headers.get("Content-Encoding") == "aes128gcm"
                and "TTL" in self.headers
                and len(body) > 86  # salt, record size, key id length, sender key, tag
            )
            with lock:
                (counts if well_formed else refused)[self.path] += 1
            self.send_response(201 if well_formed else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    server.shutdown()
    results.send((dict(counts), dict(refused), time.process_time()))


def populate(people: int, port: int) -> None:
    """People whose reminder fell due a minute ago, each with one device at the receiver."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.utils import timezone

    from accounts.models import User
    from diary.models import Profile
    from notifications.models import PushSubscription, ReminderSettings

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    # One device key for all (the sender encrypts every message with a fresh key of its own anyway).
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    p256dh = b64(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    due = (timezone.now() - timedelta(minutes=1)).replace(second=0, microsecond=0)
    users = User.objects.bulk_create([User(email=f"p{n}@example.test", password="!") for n in range(people)])  # noqa: S106
    Profile.objects.bulk_create([Profile(user=u, timezone=ZONES[n % 5]) for n, u in enumerate(users)])
    settings = []
    for n, user in enumerate(users):
        local = due.astimezone(Profile(timezone=ZONES[n % 5]).zone)
        settings.append(
            ReminderSettings(
                user=user, enabled=True, time=local.time().replace(second=0, microsecond=0),
                quiet_start=local.time().replace(hour=(local.hour + 12) % 24, minute=0, second=0, microsecond=0),
                quiet_end=local.time().replace(hour=(local.hour + 13) % 24, minute=0, second=0, microsecond=0),
                next_at=due,
            )
        )  # fmt: skip
    ReminderSettings.objects.bulk_create(settings, batch_size=5000)
    PushSubscription.objects.bulk_create(
        [
            PushSubscription(
                user=u, endpoint=f"http://127.0.0.1:{port}/push/{n}", p256dh=p256dh, auth=b64(os.urandom(16))
            )
            for n, u in enumerate(users)
        ],
        batch_size=5000,
    )


def tick() -> tuple[int, float, float, Counter]:
    """One beat tick and every task it queues, in this process: (planned, plan seconds, send seconds, outcomes)."""
    from notifications import reminders, tasks

    outcomes: Counter = Counter()
    planned, plan_seconds, send_seconds = 0, 0.0, 0.0
    started = time.perf_counter()
    for ids in reminders.plan_all():
        plan_seconds += time.perf_counter() - started
        planned += len(ids)
        started = time.perf_counter()
        for start in range(0, len(ids), tasks.REMINDER_CHUNK):
            outcomes.update(reminders.send_batch(ids[start : start + tasks.REMINDER_CHUNK]).values())
        send_seconds += time.perf_counter() - started
        started = time.perf_counter()
    plan_seconds += time.perf_counter() - started
    return planned, plan_seconds, send_seconds, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench"),
        VAR_DIR=tempfile.mkdtemp(prefix="bench-reminders-"),  # a VAPID key of its own, made on first use
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="cramptrack.settings",
    )
    fresh_database(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    populate(args.people, port)
    import notifications.tasks  # noqa: F401 (a worker imports its tasks once, untimed)
    from notifications.models import ReminderDelivery

    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    results, results_in = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=push_receiver, args=(port, ready, stop, results_in))
    server.start()
    ready.wait(10)
    try:
        db_cpu, wall, cpu = database_cpu(), time.perf_counter(), time.process_time()
        planned, plan_seconds, send_seconds, outcomes = tick()
        wall, cpu, db_cpu = time.perf_counter() - wall, time.process_time() - cpu, database_cpu() - db_cpu
        again, _, _, _ = tick()
    finally:
        stop.set()
        counts, refused, receiver_cpu = results.recv()
        server.join()

    sent = outcomes.get("sent", 0)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    rows = ReminderDelivery.objects.count()
    print(f"database        {connection.vendor}")
    print(f"people due      {args.people}")
    print(f"planned         {planned} in {plan_seconds:.2f} s: {planned / plan_seconds:.0f} reminders/s")
    print(f"sent            {sent} in {send_seconds:.2f} s: {sent / send_seconds:.0f} reminders/s (budget >= {BUDGET})")
    print(f"outcomes        {dict(outcomes)}")
    print(f"received        {sum(counts.values())} messages on {len(counts)} subscriptions, {duplicates} duplicates")
    print(f"refused         {sum(refused.values())}")
    print(f"second tick     {again} tried; {rows} delivery rows")
    print(f"wall            {wall:.2f} s: {sent / wall:.0f} reminders/s planned and sent")
    per_push = [seconds / max(sent, 1) * 1000 for seconds in (cpu, receiver_cpu, db_cpu)]
    print("CPU per push    {:.2f} ms worker, {:.2f} ms receiver, {:.2f} ms database".format(*per_push))
    # One reminder at a time, each waiting on the receiver and the database: on an idle machine the wall
    # time per reminder is about the sum of the three (plus the commits' flushes).
    print(f"idle-machine    about {1000 / sum(per_push):.0f} reminders/s from that CPU (a load-free estimate)")
    print(f"load average    {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores")
    ok = (
        sent == planned == args.people == sum(counts.values()) == len(counts) == rows
        and duplicates == 0
        and not refused
        and again == 0
        and sent / send_seconds >= BUDGET
    )
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
