"""Periodic sharing work: the access-log retention purge (beat runs it daily)."""

from celery import shared_task

from . import retention


@shared_task(name="sharing.purge_access_log", ignore_result=True)
def purge_access_log() -> int:
    return retention.purge_access_log()
