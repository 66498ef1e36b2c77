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
def _close_old_connections(task=None, **kwargs) -> None:
    """Database connections live as in a web request: CONN_MAX_AGE, health checks, dropped after an error.

    Celery's Django fixup would close them around every task (see CELERY_DB_REUSE_MAX in settings): a new
    PostgreSQL backend, with cold catalogue caches, for every analysis chunk.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside its caller's transaction
    from django.db import close_old_connections

    close_old_connections()
