"""Celery tasks: a planner on the beat, and chunked analysis workers. Ids in, never instances."""

from celery import shared_task

from . import delivery, refresh

CHUNK_SIZE = 100
PLAN_LIMIT = 20_000


@shared_task(name="insights.plan_analysis")
def plan_analysis() -> int:
    """Queue every due diary in chunks; a second tick finds them claimed and queues nothing."""
    claimed = refresh.claim(refresh.due_user_ids(limit=PLAN_LIMIT))
    for start in range(0, len(claimed), CHUNK_SIZE):
        analyse_chunk.delay(claimed[start : start + CHUNK_SIZE])
    return len(claimed)


@shared_task(name="insights.analyse_chunk", acks_late=True, max_retries=3, default_retry_delay=60)
def analyse_chunk(user_ids: list[int]) -> int:
    return refresh.analyse_and_store(user_ids)


DIGEST_CHUNK = 50


@shared_task(name="insights.plan_digests")
def plan_digests() -> int:
    """Beat tick: create this week's deliveries for everyone due and queue every one waiting for a
    (re)try, in chunks; each planning transaction's chunks are queued as soon as it commits."""
    queued = 0
    for ids in delivery.plan_all():
        for start in range(0, len(ids), DIGEST_CHUNK):
            send_digests.delay(ids[start : start + DIGEST_CHUNK])
        queued += len(ids)
    return queued


@shared_task(name="insights.send_digests", acks_late=True)
def send_digests(delivery_ids: list[int]) -> dict:
    # Retries are the planner's job (durable in the database), not Celery's; a duplicate of this task
    # finds every row claimed, sent or backing off.
    return delivery.send_batch(delivery_ids)
