"""The Celery application; every setting comes from Django's CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cramptrack.settings")

app = Celery("cramptrack", include=["cramptrack.tasks"], task_cls="cramptrack.redelivery:BoundedRedeliveryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task=None, **kwargs) -> None:
    """A task is handled like a request: its database connection is kept for CONN_MAX_AGE and
    health-checked at first use, and dropped if it broke or its age is up. Celery's own Django
    fixup would close it around every task (see CELERY_DB_REUSE_MAX in settings), so each task of
    50 weekly emails paid for a new PostgreSQL backend. Eager tasks run inside the caller's
    transaction and are left alone, as the fixup does."""
    if task is not None and not task.request.is_eager:
        from django.db import close_old_connections as close_django_connections

        close_django_connections()
