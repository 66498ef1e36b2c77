"""A bound on redeliveries of acks-late tasks.

Tasks are acknowledged after they finish, so a worker killed mid-task (OOM,
kill -9, a lost machine) gets its task redelivered. A task that itself kills
the worker would come back for ever; kombu only flags a message "redelivered",
so the count is kept in the broker's Redis under the task id. Past the bound the
task is dropped with an error in the log: every task here is re-planned from
PostgreSQL (analysis claims expire, digest rows have their own attempt limit),
so dropping a message never loses work.
"""

import logging

from celery import Task
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

COUNT_TTL = 7 * 24 * 3600


def redelivered(request) -> bool:
    info = request.delivery_info or {}
    return bool(info.get("redelivered") or (request.headers or {}).get("redelivered"))


def count_redelivery(task_id: str) -> int:
    key = f"celery:redeliveries:{task_id}"
    if cache.add(key, 1, timeout=COUNT_TTL):
        return 1
    return cache.incr(key)


class BoundedRedeliveryTask(Task):
    def __call__(self, *args, **kwargs):
        if self.request.id and not self.request.is_eager and redelivered(self.request):
            try:
                count = count_redelivery(self.request.id)
            except Exception:  # the counter is a safeguard; without it the task still runs
                count = 0
            if count > settings.CELERY_MAX_REDELIVERIES:
                log.error("dropping %s[%s]: redelivered %s times", self.name, self.request.id, count)
                return None
        return super().__call__(*args, **kwargs)
