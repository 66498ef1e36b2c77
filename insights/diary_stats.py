"""What the rules need to know about one diary: counts and comparisons, not nights.

The rules (insights.rules) read only these numbers; insights.panel_stats
computes them from one diary's Panel with NumPy.
"""

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .models import RED_FLAG_CHOICES
from .panel import Course
from .stats import Comparison

RECENT_DAYS = 30  # walking pain (R05) and long cramps (R14): so many reports within this many days
# A red flag stays active from its report until the person says they have seen a clinician about it
# (insights.models.RedFlagAcknowledgement); a later report raises it again. FLAGS are all of them: the
# checklist boxes (one report raises each), cramps spreading beyond the legs (R14) and two count rules.
WALKING_PAIN = "walking_pain"  # R05: pain on walking eased by rest, twice within RECENT_DAYS
LONG_CRAMPS = "long_cramps"  # R14: cramps over 10 minutes, three times within RECENT_DAYS
SPREAD = "spread_beyond_legs"  # R14: one report
FLAG_COUNTS = {WALKING_PAIN: 2, LONG_CRAMPS: 3}  # reports within RECENT_DAYS that raise a count flag
FLAGS = tuple(name for name, _ in RED_FLAG_CHOICES)
TREND_NIGHTS = 28  # R07: blocks of 28 logged nights, each compared with all the nights before it


@dataclass(frozen=True)
class Reported:
    """A red flag reported since its last acknowledgement (or ever): active until acknowledged."""

    first: date  # the person's local date of the first report since then
    last: date  # ... and of the latest
    times: int  # reports since then
    until: int  # start of the latest report, microseconds since the epoch: an acknowledgement covers up to it


@dataclass(frozen=True)
class Burden:
    """R07's burden: the last 4 weeks before today."""

    every_week_4_cramp_nights: bool
    disturbance_nights: int  # nights with sleep disturbance recorded in the 4 weeks
    disturbance_median: float  # NaN when none
    stretched_nights: int


@dataclass
class DiaryStats:
    user_id: int
    today: date  # the person's local date when the analysis ran
    profile: dict
    courses: list[Course]  # by start date
    logged_nights: int
    red_flags: dict[str, Reported]  # active red flags (FLAGS) by name
    walking_pain: int  # episodes with walking pain eased by rest, since its last acknowledgement (R05)
    walking_pain_sitting: int  # ... of which eased by sitting or bending
    walking_pain_30: int  # ... of which in the last 30 days
    context_n: int  # episodes with an onset context (R01)
    at_rest: int
    walking: int
    rls_like: int  # no hard knot and an urge to move
    exposures: dict[str, Comparison]  # by exposure rule key
    trend: tuple[int, Comparison] | None  # (look number, latest block vs before); None below 2 blocks
    burden: Burden
    thirds: np.ndarray  # per night with timed cramps: shares in each third of the time in bed (R08)
    sides: np.ndarray  # per night with one-sided cramps: shares left and right (R09)
    episodes: int
    left: int
    one_sided: int
    both: int
    nerve_left: bool  # a left-sided cramp with radiating back pain or numbness (R09)
    nerve_right: bool
    thigh: int
    trimesters: dict = field(default_factory=dict)  # R11, when a due date is known
    changes: list[list[tuple[int, Comparison]]] = field(default_factory=list)  # per medication_changes(): looks so far
    supplements: list[Comparison] = field(default_factory=list)  # per supplement_changes()
