"""A worker app with one extra task that kills its own worker process (for the redelivery bound test)."""

import os
from pathlib import Path

from cramptrack.celery import app

__all__ = ["app"]


@app.task(name="tests.poison")
def poison(marker: str) -> None:
    with Path(marker).open("a") as runs:
        runs.write("run\n")
    os._exit(1)  # as an OOM kill would: no exception, no acknowledgement
