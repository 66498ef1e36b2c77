"""Descriptive figures for the insights page: cramps per week with completeness, time of night."""

from datetime import timedelta

import numpy as np

from .panel import Panel


def weekly(panel: Panel, weeks: int = 12) -> list[dict]:
    """Cramps and logged nights per week (Monday to Sunday nights), oldest first."""
    monday = panel.today - timedelta(days=panel.today.weekday())
    out = []
    for w in range(weeks - 1, -1, -1):
        start = monday - timedelta(days=7 * w)
        end = min(start + timedelta(days=6), panel.today - timedelta(days=1))
        if end < start:
            continue
        mask = panel.window(start, end)
        nights_in_week = (end - start).days + 1
        logged = int(mask.sum())
        out.append(
            {
                "week_of": start.isoformat(),
                "cramps": int(panel.cramps[mask].sum()),
                "cramp_nights": int((panel.cramps[mask] > 0).sum()),
                "logged_nights": logged,
                "nights": nights_in_week,
                "completeness": round(logged / nights_in_week, 2),
            }
        )
    return out


def by_hour(panel: Panel) -> list[int]:
    """Cramps by local clock hour (0-23), exact times only."""
    hours = panel.episodes.local_hour[~panel.episodes.time_approximate]
    return np.bincount(hours.astype(int) % 24, minlength=24).tolist() if hours.size else [0] * 24


def completeness(panel: Panel, days: int = 28) -> dict:
    start = panel.today - timedelta(days=days)
    logged = int(panel.window(start, panel.today - timedelta(days=1)).sum())
    return {"days": days, "logged_nights": logged, "share": round(logged / days, 2)}
