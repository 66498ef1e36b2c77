"""What the rules need to know about one diary: counts and comparisons, not nights.

The rules (insights.rules) read only these numbers; insights.panel_stats
computes them from one diary's Panel with NumPy.
"""

from dataclasses import dataclass, field
from datetime import date

from .panel import Course
from .stats import Comparison

RED_FLAG_DAYS = 28  # a reported red flag stays active this long after its last report
RECENT_DAYS = 30  # walking pain (R05) and atypical cramps (R14)
# The checklist boxes that raise a flag on their own when ticked in the last RED_FLAG_DAYS.
RED_FLAGS = (
    "breathless_chest_pain",
    "calf_swelling",
    "saddle_numbness",
    "weakness",
    "dark_urine",
    "foot_pale_cold",
    "numbness_tingling",
    "tingling_mouth_fingers",
    "pain_between_cramps",
)
TREND_NIGHTS = 28  # R07: the last 28 logged nights against the 28 before


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
    red_flags: frozenset[str]  # RED_FLAGS ticked in the last RED_FLAG_DAYS
    walking_pain_30: int  # episodes with walking pain eased by rest, last 30 days (R05)
    walking_pain_sitting_30: int  # ... of which eased by sitting or bending
    long_30: int  # episodes over 10 minutes, last 30 days (R14)
    spread_30: bool  # cramps spreading beyond the legs, last 30 days (R14)
    context_n: int  # episodes with an onset context (R01)
    at_rest: int
    walking: int
    rls_like: int  # no hard knot and an urge to move
    exposures: dict[str, Comparison]  # by exposure rule key
    trend: Comparison | None  # None below 2 * TREND_NIGHTS logged nights
    burden: Burden
    thirds: tuple[int, int, int]  # timed cramps in each third of the time in bed (R08)
    episodes: int
    left: int
    one_sided: int
    both: int
    nerve_left: bool  # a left-sided cramp with radiating back pain or numbness (R09)
    nerve_right: bool
    thigh: int
    trimesters: dict = field(default_factory=dict)  # R11, when a due date is known
    changes: list[tuple[Comparison, int]] = field(default_factory=list)  # per medication_changes(): c, new cramp nights
    supplements: list[Comparison] = field(default_factory=list)  # per supplement_changes()
