"""System tasks: the heartbeat that lets /healthz tell whether beat and a worker are alive."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "cramptrack:worker-heartbeat"


@shared_task(name="cramptrack.heartbeat", ignore_result=True)
def heartbeat() -> None:
    # Written by a worker, scheduled by beat: a fresh value proves broker, beat and worker all run.
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=60 * 60)
