"""CrampTrack: a self-hostable leg-cramp diary."""

from .celery import app as celery_app

__all__ = ("celery_app",)
