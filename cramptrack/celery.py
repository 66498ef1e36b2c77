"""The Celery application; every setting comes from Django's CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cramptrack.settings")

app = Celery("cramptrack", include=["cramptrack.tasks"], task_cls="cramptrack.redelivery:BoundedRedeliveryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
