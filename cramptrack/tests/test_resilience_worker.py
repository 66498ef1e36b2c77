"""A Celery worker killed with SIGKILL in the middle of a digest run, or of the morning
reminders: once a worker is back, every expected email or push message arrives exactly
once. And a task that kills its worker every time is redelivered a bounded number of
times, then dropped.

Real processes throughout: `celery worker --beat` on a private Redis, the test
database, and a real SMTP server (aiosmtpd) or Web Push receiver (RFC 8030, VAPID
checked, payload decrypted) that can hold a message unanswered, so the kill lands while
the worker waits for the server's reply.
"""

import asyncio
import re
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from conftest import MailCatcher
from cramptrack.celery import app
from notifications import vapid
from notifications.delivery import lease
from notifications.models import DigestDelivery, PushSubscription, ReminderDelivery, ReminderSettings
from notifications.tests import push_receiver

from .private_services import CeleryWorker, app_env, current_database_url, free_port, wait_until

pytestmark = pytest.mark.servers

PEOPLE = 120  # three chunks of notifications.tasks.DIGEST_CHUNK (50)
HOLD_AT = 30  # the 31st message is held unanswered: the kill lands mid-chunk


class HoldingCatcher(MailCatcher):
    """Accepts HOLD_AT messages, then holds the next one without an answer until released.
    The held message is then refused: its sender hung up before the server took it on."""

    def __init__(self, port: int, hold_at: int):
        super().__init__(port)
        self.hold_at = hold_at
        self.holding = False
        self.released = False

    async def handle_DATA(self, server, session, envelope):
        if not self.released and len(self.messages) >= self.hold_at:
            self.holding = True
            while not self.released:
                await asyncio.sleep(0.05)
            return "451 4.3.0 Sender went away"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def holding_smtp():
    catcher = HoldingCatcher(free_port(), HOLD_AT)
    catcher.start()
    yield catcher
    catcher.released = True
    catcher.stop()


def due_patients(count: int) -> set[str]:
    now = timezone.now()
    emails = set()
    for n in range(count):
        # No password: no hashing cost. Joined a month ago: a week before joining gets no email.
        user = User.objects.create_user(email=f"p{n:03d}@example.org", date_joined=now - timedelta(days=30))
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        user.profile.digest_next_at = now - timedelta(minutes=1)
        user.profile.save()
        emails.add(user.email)
    return emails


def test_a_worker_killed_mid_digest_run_loses_and_repeats_no_email(
    transactional_db, private_redis, holding_smtp, tmp_path
):
    expected = due_patients(PEOPLE)
    env = app_env(
        current_database_url(),
        private_redis.url(0),
        CONN_MAX_AGE="0",
        EMAIL_URL=f"smtp://127.0.0.1:{holding_smtp.port}",
        DIGEST_TICK_SECONDS="1",
        ANALYSIS_TICK_SECONDS="3600",
        CELERY_VISIBILITY_TIMEOUT="5",  # a dead worker's unacknowledged task comes back after 5 s, not an hour
    )
    worker = CeleryWorker(env, tmp_path / "worker.log", beat=True)
    try:
        kill_and_restart(worker, holding_smtp, expected)
    finally:
        worker.kill()


def kill_and_restart(worker, holding_smtp, expected):
    worker.start(pool="prefork")
    wait_until(lambda: holding_smtp.holding, 60, "the worker reaching the held message")
    worker.kill()
    [killed_task] = unfinished_tasks(worker.log_text())
    holding_smtp.released = True
    assert len(holding_smtp.messages) == HOLD_AT
    in_flight = DigestDelivery.objects.filter(status=DigestDelivery.Status.SENDING)
    # The dead worker holds one claim, the email it was sending: the rest of its batch is free.
    assert in_flight.count() == 1

    # Ten minutes pass: the dead worker's lease on its claimed rows runs out.
    in_flight.update(claimed_at=timezone.now() - lease() - timedelta(minutes=1))
    # Back without beat: only the broker's redelivery of the killed task can finish its chunk.
    offset = worker.log_path.stat().st_size
    worker.beat = False
    worker.start(pool="prefork")
    sent = DigestDelivery.objects.filter(status=DigestDelivery.Status.SENT)
    wait_until(lambda: sent.count() == PEOPLE, 90, f"{PEOPLE} digests sent", interval=0.5)
    # Any late duplicate (a redelivered task, a queued tick's chunk) has run once the broker is idle.
    wait_until(lambda: broker_idle(worker.env["REDIS_URL"]), 60, "every queued and delivered task finished")
    worker.stop()
    assert f"send_digests[{killed_task}] received" in worker.log_text(offset)  # redelivered, not lost

    recipients = Counter(str(message["To"]) for message in holding_smtp.messages)
    assert set(recipients) == expected
    assert max(recipients.values()) == 1, [who for who, n in recipients.items() if n > 1]
    assert DigestDelivery.objects.count() == PEOPLE


def broker_idle(url: str) -> bool:
    """Nothing waits in the queue and every delivered task is acknowledged: tasks are acked late,
    so a message stays in kombu's unacked index (and comes back if its worker dies) until it ran."""
    broker = redis.Redis.from_url(url)
    return broker.llen("celery") == 0 and broker.zcard("unacked_index") == 0


def unfinished_tasks(log: str, task: str = "notifications.send_digests") -> set[str]:
    received = set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] received", log))
    finished = set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] succeeded", log))
    return received - finished


REMINDED = 250  # three chunks of notifications.tasks.REMINDER_CHUNK (100)
HOLD_PUSH_AT = 130  # the 131st push is held unanswered: the kill lands in the second chunk
# REMINDER_CLAIM_SECONDS in the workers: longer than the broker's redelivery (5 s) and a restart, so the
# redelivered task finds the held row still claimed, and a later beat tick sends it once the claim runs out.
CLAIM_SECONDS = 15


class HoldingPushService(push_receiver.PushService):
    """Takes HOLD_PUSH_AT messages, then holds the next one without an answer until released.
    The held message is then refused: its sender hung up before the service took it on."""

    holding = False
    released = False

    def handle(self, path: str, headers: dict, body: bytes) -> int:
        if not self.released and len(self.messages) >= HOLD_PUSH_AT:
            self.holding = True
            while not self.released:
                time.sleep(0.05)
            return 503
        return super().handle(path, headers, body)


@pytest.fixture
def holding_push():
    service = push_receiver.start(HoldingPushService())
    yield service
    service.released = True
    assert service.server is not None
    service.server.shutdown()
    service.server.server_close()


def due_for_reminders(count: int, service) -> dict[str, int]:
    """People whose morning reminder was due a minute ago, each with a phone subscribed to `service`:
    the phone's subscription id -> the person's id."""
    due = (timezone.now() - timedelta(minutes=1)).replace(second=0, microsecond=0)
    phones, devices = {}, []
    for n in range(count):
        user = User.objects.create_user(email=f"r{n:03d}@example.org")  # in UTC, the profile's default
        # Quiet hours from and to the same time are none: the test runs at any time of day.
        ReminderSettings.objects.create(
            user=user, enabled=True, time=due.time(), quiet_start=due.time(), quiet_end=due.time(),
            next_at=due,
        )  # fmt: skip
        phone = service.subscribe().to_json()
        keys = phone["keys"]
        devices.append(
            PushSubscription(user=user, endpoint=phone["endpoint"], p256dh=keys["p256dh"], auth=keys["auth"])
        )
        phones[phone["endpoint"].rsplit("/", 1)[1]] = user.pk
    PushSubscription.objects.bulk_create(devices)
    return phones


def test_a_worker_killed_mid_reminder_run_loses_and_repeats_no_reminder(
    transactional_db, private_redis, holding_push, tmp_path
):
    phones = due_for_reminders(REMINDED, holding_push)
    env = app_env(
        current_database_url(),
        private_redis.url(0),
        CONN_MAX_AGE="0",
        VAPID_PRIVATE_KEY=vapid.raw_private(vapid.new_private_key()),
        REMINDER_TICK_SECONDS="1",
        REMINDER_CLAIM_SECONDS=str(CLAIM_SECONDS),
        PUSH_TIMEOUT_SECONDS="120",  # the held push waits for the kill, not for a timeout
        DIGEST_TICK_SECONDS="3600",
        ANALYSIS_TICK_SECONDS="3600",
        CELERY_VISIBILITY_TIMEOUT="5",
    )
    worker = CeleryWorker(env, tmp_path / "worker.log", beat=True)
    try:
        worker.start(pool="prefork")
        wait_until(lambda: holding_push.holding, 90, "the worker reaching the held push")
        worker.kill()
        [killed_task] = unfinished_tasks(worker.log_text(), "notifications.send_reminders")
        holding_push.released = True
        assert len(holding_push.messages) == HOLD_PUSH_AT
        # The dead worker holds one claim, the push it was sending: the rest of its chunk is free.
        [held] = ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENDING)

        # A second worker, with beat: its ticks queue the rows still waiting, and the held one once its claim
        # has run out; the broker redelivers the killed task.
        offset = worker.log_path.stat().st_size
        worker.start(pool="prefork")
        sent = ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENT)
        wait_until(lambda: sent.count() == REMINDED, 120, f"{REMINDED} reminders sent", interval=0.5)
        wait_until(lambda: broker_idle(worker.env["REDIS_URL"]), 60, "every queued and delivered task finished")
        worker.stop()
    finally:
        worker.kill()
    assert f"send_reminders[{killed_task}] received" in worker.log_text(offset)  # redelivered, not lost

    received = Counter(message.subscription for message in holding_push.messages)
    assert set(received) == set(phones)
    assert max(received.values()) == 1, [phones[sub] for sub, n in received.items() if n > 1]
    assert {message.payload["type"] for message in holding_push.messages} == {"checkin"}
    assert holding_push.refused == []  # every push signed and encrypted as a phone expects
    assert ReminderDelivery.objects.count() == REMINDED
    resent = ReminderDelivery.objects.get(pk=held.pk)
    assert resent.attempts == 2  # the dead worker's claim, then the one that sent it
    assert resent.sent_at >= held.claimed_at + timedelta(seconds=CLAIM_SECONDS)  # only after its lease ran out


def test_a_task_that_kills_its_worker_every_time_is_dropped_after_the_redelivery_bound(
    transactional_db, private_redis, tmp_path, settings
):
    marker = tmp_path / "poison-runs"
    env = app_env(current_database_url(), private_redis.url(0), CONN_MAX_AGE="0", CELERY_MAX_REDELIVERIES="2")
    worker = CeleryWorker(env, tmp_path / "worker.log", app_module="cramptrack.tests.poison_tasks")
    worker.start(pool="prefork")
    try:
        with app.connection_for_write(private_redis.url(0)) as connection:
            app.send_task("tests.poison", args=[str(marker)], connection=connection, queue="celery")
        wait_until(lambda: "dropping tests.poison" in worker.log_text(), 60, "the poison task being dropped")
        wait_until(lambda: broker_idle(private_redis.url(0)), 30, "the dropped task acknowledged")  # none left to run
    finally:
        worker.stop()
    assert Path(marker).read_text().count("run") == 1 + 2  # the first delivery and two redeliveries
