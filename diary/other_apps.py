"""The CSV exports of other diary apps, read as CrampTrack episodes.

Cluster Headache Tracker (open source) exports one row per attack under the header
start_time,end_time,intensity,medication,triggers,notes[,barometric_pressure]: times as
local clock time "YYYY-MM-DD HH:MM:SS" and intensity from 1 to 10. Each row becomes an
episode: the start, the minutes to the end (when 0-180; a longer one is kept in the notes),
the intensity as severity, and the rest in the notes. Its rows name no muscle or side: the
person chooses what to file them as (muscle "other", side "both" unless they say).

No documented export format was found for Migraine Buddy or Bearable, so they are not read.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

CLUSTER_HEADACHE_TRACKER = "Cluster Headache Tracker"
CHT_COLUMNS = ("start_time", "end_time", "intensity", "medication", "triggers", "notes", "barometric_pressure")
CHT_REQUIRED = {"start_time", "intensity"}
MAX_MINUTES = 180  # the diary's limit for one cramp


@dataclass(frozen=True)
class Leg:
    """What to file another app's rows as: they say nothing about the leg."""

    muscle: str = "other"
    side: str = "both"


UNSAID = Leg()


def app_of(header: Iterable[str]) -> str | None:
    columns = set(header)
    if CHT_REQUIRED <= columns <= set(CHT_COLUMNS):
        return CLUSTER_HEADACHE_TRACKER
    return None


def cht_episode(row: dict, leg: Leg) -> dict:
    """One Cluster Headache Tracker attack as an episode row (the importer validates it)."""
    cell = {key: (value or "").strip() for key, value in row.items()}
    notes = []
    episode = {"started_at": cell["start_time"], "muscle": leg.muscle, "side": leg.side}
    if cell.get("intensity"):
        episode["severity"] = cell["intensity"]
    minutes = _minutes(cell["start_time"], cell.get("end_time", ""))
    if minutes is not None and 0 <= minutes <= MAX_MINUTES:
        episode["duration_minutes"] = str(minutes)
    elif minutes is not None:
        notes.append(f"Lasted {minutes} minutes.")
    for column, label in (("medication", "Medication"), ("triggers", "Triggers")):
        if cell.get(column):
            notes.append(f"{label}: {cell[column]}")
    if cell.get("barometric_pressure"):
        notes.append(f"Barometric pressure: {cell['barometric_pressure']} hPa")
    if cell.get("notes"):
        notes.append(cell["notes"])
    notes.append(f"Imported from {CLUSTER_HEADACHE_TRACKER}.")
    episode["notes"] = "\n".join(notes)
    return episode


def _minutes(start: str, end: str) -> int | None:
    if not end:
        return None
    try:
        return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60)
    except ValueError:
        return None  # a bad start is reported by the importer; a bad end only loses the duration
