"""Settings for the API benchmark: the app's own settings, plus the bare-insert baseline URL."""

from cramptrack.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
