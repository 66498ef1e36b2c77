"""Celery tasks: a planner on the beat, and chunked analysis workers. Ids in, never instances."""

from celery import shared_task

from . import refresh

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
