"""Celery tasks: beat ticks plan what is due, workers send it in chunks. Ids in, never instances."""

from celery import shared_task

from . import delivery, reminders

DIGEST_CHUNK = 50
REMINDER_CHUNK = 100


@shared_task(name="notifications.plan_digests")
def plan_digests() -> int:
    """Beat tick: create this week's deliveries for everyone due and queue every one waiting for a
    (re)try, in chunks; each planning transaction's chunks are queued as soon as it commits."""
    queued = 0
    for ids in delivery.plan_all():
        for start in range(0, len(ids), DIGEST_CHUNK):
            send_digests.delay(ids[start : start + DIGEST_CHUNK])
        queued += len(ids)
    return queued


@shared_task(name="notifications.send_digests", acks_late=True)
def send_digests(delivery_ids: list[int]) -> dict:
    # Retries are the planner's job (durable in the database), not Celery's; a duplicate of this task
    # finds every row claimed, sent or backing off.
    return delivery.send_batch(delivery_ids)


@shared_task(name="notifications.plan_reminders")
def plan_reminders() -> int:
    """Beat tick (every minute): this morning's reminders for everyone due, and every one waiting for a
    (re)try, queued in chunks as each planning transaction commits."""
    queued = 0
    for ids in reminders.plan_all():
        for start in range(0, len(ids), REMINDER_CHUNK):
            send_reminders.delay(ids[start : start + REMINDER_CHUNK])
        queued += len(ids)
    return queued


@shared_task(name="notifications.send_reminders", acks_late=True)
def send_reminders(delivery_ids: list[int]) -> dict:
    # Like send_digests: a duplicate finds every row claimed, sent or backing off.
    return reminders.send_batch(delivery_ids)
