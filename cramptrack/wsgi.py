"""WSGI entry point for gunicorn / granian."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cramptrack.settings")
application = get_wsgi_application()

# Load the URLconf (the views, DRF, the serializers) now rather than on the first request, then
# take everything loaded so far out of the garbage collector's sight: it lives as long as the
# process, and a full collection walked all of it, a pause of about 100 ms every few thousand
# API writes (bench/README.md).
get_resolver().url_patterns  # noqa: B018 (evaluated for its import side effect)
gc.freeze()
