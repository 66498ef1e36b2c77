"""The statistical gate shared by the exposure rules (triggers.md section 4.2).

Cramps cluster, so plain Poisson intervals are too narrow (about 7% false
positives in the simulation of section 4.5). Counts are first deflated by the
dispersion factor phi, then compared with the conditional exact interval:
given Y1 + Y0 cramps, Y1 is binomial with p = RR*N1 / (RR*N1 + N0).
"""

from dataclasses import dataclass

import numpy as np
from scipy import special

MIN_NIGHTS_EACH_SIDE = 28
MIN_CRAMPS = 10
MIN_RATE_RATIO = 1.5
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Comparison:
    cramps_exposed: int
    nights_exposed: int
    cramps_other: int
    nights_other: int
    dispersion: float
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def counts(self) -> dict:
        return {
            "cramps_exposed": self.cramps_exposed,
            "nights_exposed": self.nights_exposed,
            "cramps_other": self.cramps_other,
            "nights_other": self.nights_other,
            "dispersion": round(self.dispersion, 3),
        }


def dispersion(counts: np.ndarray, groups: np.ndarray) -> float:
    """phi = max(1, Pearson chi-square / df) of nightly counts around their group means."""
    chi2 = 0.0
    n_groups = 0
    for value in np.unique(groups):
        y = counts[groups == value]
        mean = y.mean() if y.size else 0.0
        if mean > 0:
            chi2 += float(((y - mean) ** 2).sum() / mean)
            n_groups += 1
    df = counts.size - max(n_groups, 1)
    return max(1.0, chi2 / df) if df > 0 else 1.0


def rate_ratio_interval(y1: float, n1: int, y0: float, n0: int, confidence: float = CONFIDENCE):
    """Exact conditional (Clopper-Pearson) interval for the rate ratio; y may be non-integer.

    Uses beta quantiles rather than binomtest so that dispersion-deflated
    (effective) counts can be used directly.
    """
    if n1 == 0 or n0 == 0:
        return None, None, None
    alpha = 1 - confidence
    estimate = (y1 / n1) / (y0 / n0) if y0 > 0 else (np.inf if y1 > 0 else None)
    # betaincinv(a, b, q) is the beta distribution's quantile, without scipy.stats' per-call overhead.
    p_low = float(special.betaincinv(y1, y0 + 1, alpha / 2)) if y1 > 0 else 0.0
    p_high = float(special.betaincinv(y1 + 1, y0, 1 - alpha / 2)) if y0 > 0 else 1.0
    scale = n0 / n1
    low = p_low / (1 - p_low) * scale
    high = p_high / (1 - p_high) * scale if p_high < 1 else np.inf
    return estimate, float(low), float(high)


def compare(counts: np.ndarray, exposed: np.ndarray) -> Comparison:
    """Compare cramp rates on exposed nights with the other nights.

    `counts` are cramps per logged night; `exposed` is 1.0/0.0 per night, NaN
    where the exposure was not recorded (those nights are left out, never
    counted as unexposed).
    """
    known = ~np.isnan(exposed)
    y, x = counts[known], exposed[known].astype(bool)
    y1, n1 = int(y[x].sum()), int(x.sum())
    y0, n0 = int(y[~x].sum()), int((~x).sum())
    phi = dispersion(y, x) if y.size else 1.0
    estimate, low, high = rate_ratio_interval(y1 / phi, n1, y0 / phi, n0)
    return Comparison(y1, n1, y0, n0, phi, _finite(estimate), _finite(low), _finite(high))


def _finite(value):
    if value is None or not np.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class Verdict:
    status: str  # insufficient_data | no_clear_pattern | possible_pattern_higher | possible_pattern_lower
    nights_needed: int  # more logged nights needed before the rule can be tested (0 if testable)


def gate(c: Comparison, *, two_sided: bool = False, min_nights: int = MIN_NIGHTS_EACH_SIDE) -> Verdict:
    """triggers.md 4.2: enough data, then lower bound > 1 and RR >= 1.5 (mirrored if two-sided)."""
    short = max(0, min_nights - c.nights_exposed) + max(0, min_nights - c.nights_other)
    if short or c.cramps_exposed + c.cramps_other < MIN_CRAMPS:
        return Verdict("insufficient_data", short)
    rr, low, high = c.rate_ratio, c.ci_low, c.ci_high
    if low is not None and low > 1 and (rr is None or rr >= MIN_RATE_RATIO):
        return Verdict("possible_pattern_higher", 0)
    if two_sided and high is not None and high < 1 and rr is not None and rr <= 1 / MIN_RATE_RATIO:
        return Verdict("possible_pattern_lower", 0)
    return Verdict("no_clear_pattern", 0)


def nights_to_testable(nights_exposed: int, nights_other: int, min_nights: int = MIN_NIGHTS_EACH_SIDE) -> int:
    return max(0, min_nights - nights_exposed) + max(0, min_nights - nights_other)
