"""A finding: one rule's result for one diary, and the shared wording of findings."""

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Protocol

import numpy as np

from . import stats
from .catalogue import cite
from .panel import Course, Panel

INSUFFICIENT = "insufficient_data"


NO_PATTERN = "no_clear_pattern"


HIGHER = "possible_pattern_higher"


LOWER = "possible_pattern_lower"


ESCALATION = "escalation"


INFO = "info"


LEVEL_ACTION = {
    "E0": "Call emergency services now.",
    "E1": "Get medical help today.",
    "E2": "Book a visit with a clinician in the next week or two.",
    "E3": "Mention it at your next routine visit.",
}


@dataclass
class Finding:
    rule: str
    trigger: str
    key: str  # stable within a diary, e.g. "R06:<course id>"
    status: str
    message: str
    tip: str = ""
    escalation: str | None = None
    counts: dict = field(default_factory=dict)
    rate_ratio: float | None = None
    # The rate ratio's plausible range: the rule's confidence sequence or exact interval (see insights.stats).
    interval: tuple[float | None, float | None] | None = None
    nights_needed: int | None = None
    firm: bool = False
    first_detected_nights: int | None = None

    @property
    def source(self) -> str:
        return cite(self.trigger)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["source"] = self.source
        data["interval"] = list(self.interval) if self.interval else None
        return data


def recent(panel: Panel, days: int) -> np.ndarray:
    since = np.datetime64(panel.today - timedelta(days=days))
    return panel.episodes.started_on > since


def comparison_words(c: stats.Comparison, exposed: str, other: str) -> str:
    return f"{c.cramps_exposed} cramps in {c.nights_exposed} {exposed} vs {c.cramps_other} in {c.nights_other} {other}"


def interval_words(interval: tuple[float | None, float | None] | None) -> str:
    """A rate ratio's plausible range as the person reads it."""
    if not interval or interval[0] is None:
        return ""
    low, high = interval[0], interval[1]  # indexed, so the check above narrows low
    top = "no upper limit yet" if high is None else _ratio(high)
    return f"; plausible range {_ratio(low)} to {top}"


def _ratio(value: float) -> str:
    # Two decimals near 1, so that a range that excludes 1 never reads as "1.0".
    return f"{value:.2f}" if 0.9 < value < 1.1 else f"{value:.1f}"


def ratio_words(rate_ratio: float | None) -> str:
    return "far more often" if rate_ratio is None else f"about {rate_ratio:.1f}× as often"


def escalate(rule, trigger, key, level, what, extra="") -> Finding:
    message = f"{what} {LEVEL_ACTION[level]}"
    if extra:
        message += f" {extra}"
    return Finding(rule, trigger, key, ESCALATION, message, escalation=level)


class HasCourses(Protocol):
    courses: list[Course]


def active_course(panel: HasCourses, classes: Collection[str], on: date) -> Course | None:
    for course in panel.courses:
        if (
            course.drug_class in classes
            and course.started_on <= on
            and (course.stopped_on is None or on <= course.stopped_on)
        ):
            return course
    return None
