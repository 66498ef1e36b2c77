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


def sums(counts: np.ndarray, exposed: np.ndarray) -> tuple[int, int, int, int, int, int]:
    """The sufficient statistics of a comparison: (cramps, squared cramps, nights) on exposed nights, then on the
    other nights. `exposed` is 1.0/0.0 per night, NaN where not recorded (left out, never counted as unexposed)."""
    known = ~np.isnan(exposed)
    y, x = counts[known], exposed[known].astype(bool)
    y1, y0 = y[x], y[~x]
    return int(y1.sum()), int((y1 * y1).sum()), int(y1.size), int(y0.sum()), int((y0 * y0).sum()), int(y0.size)


def dispersion_many(s1, q1, n1, s0, q0, n0) -> np.ndarray:
    """phi = max(1, Pearson chi-square / df) of nightly counts around their group means, from the sums.

    Per group with mean > 0, sum((y - mean)^2) / mean = (n * sum(y^2) - sum(y)^2) / sum(y): the numerator is an
    exact integer, so the result does not depend on how the nights were summed (in NumPy or in SQL).
    """
    s1, q1, n1, s0, q0, n0 = (np.asarray(v, dtype=np.int64) for v in (s1, q1, n1, s0, q0, n0))
    chi2 = np.zeros(s1.shape)
    groups = np.zeros(s1.shape, dtype=np.int64)
    for s, q, n in ((s0, q0, n0), (s1, q1, n1)):  # unexposed first, as the sum was always taken
        positive = s > 0
        term = np.divide(n * q - s * s, s, out=np.zeros(s.shape), where=positive)
        chi2 = chi2 + term
        groups += positive
    df = n1 + n0 - np.maximum(groups, 1)
    ratio = np.divide(chi2, df, out=np.ones(chi2.shape), where=df > 0)
    return np.where(df > 0, np.maximum(1.0, ratio), 1.0)


def intervals_many(y1, n1, y0, n0, confidence: float = CONFIDENCE):
    """rate_ratio_interval over arrays: one betaincinv call per bound for a whole chunk of comparisons.
    Returns (estimate, low, high) arrays with NaN where rate_ratio_interval gives None."""
    y1, y0 = np.asarray(y1, dtype=float), np.asarray(y0, dtype=float)
    n1, n0 = np.asarray(n1, dtype=np.int64), np.asarray(n0, dtype=np.int64)
    alpha = 1 - confidence
    valid = (n1 != 0) & (n0 != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(y0 > 0, (y1 / n1) / (y0 / n0), np.where(y1 > 0, np.inf, np.nan))
        a_low = np.where(y1 > 0, y1, 1.0)
        p_low = np.where(y1 > 0, special.betaincinv(a_low, y0 + 1, alpha / 2), 0.0)
        b_high = np.where(y0 > 0, y0, 1.0)
        p_high = np.where(y0 > 0, special.betaincinv(y1 + 1, b_high, 1 - alpha / 2), 1.0)
        scale = n0 / n1
        low = p_low / (1 - p_low) * scale
        high = np.where(p_high < 1, p_high / (1 - p_high) * scale, np.inf)
    nan = np.full(estimate.shape, np.nan)
    return np.where(valid, estimate, nan), np.where(valid, low, nan), np.where(valid, high, nan)


def compare_many(s1, q1, n1, s0, q0, n0) -> list[Comparison]:
    """Comparisons from arrays of sufficient statistics, the dispersion and the interval computed once for all."""
    phi = dispersion_many(s1, q1, n1, s0, q0, n0)
    estimate, low, high = intervals_many(np.asarray(s1) / phi, n1, np.asarray(s0) / phi, n0)
    return [
        Comparison(int(a), int(b), int(c), int(d), float(e), _finite(f), _finite(g), _finite(h))
        for a, b, c, d, e, f, g, h in zip(
            s1, n1, s0, n0, phi.tolist(), estimate.tolist(), low.tolist(), high.tolist(), strict=True
        )
    ]


def dispersion(counts: np.ndarray, groups: np.ndarray) -> float:
    """phi of nightly counts in groups 1/0 (see dispersion_many)."""
    s = sums(counts, groups.astype(float))
    return float(dispersion_many(*([v] for v in s))[0])


def rate_ratio_interval(y1: float, n1: int, y0: float, n0: int, confidence: float = CONFIDENCE):
    """Exact conditional (Clopper-Pearson) interval for the rate ratio; y may be non-integer.

    Uses beta quantiles (scipy.special.betaincinv, without scipy.stats' per-call overhead) rather than
    binomtest so that dispersion-deflated (effective) counts can be used directly.
    """
    if n1 == 0 or n0 == 0:
        return None, None, None
    estimate, low, high = (float(v[0]) for v in intervals_many([y1], [n1], [y0], [n0], confidence))
    return (None if np.isnan(estimate) else estimate), low, high


def compare(counts: np.ndarray, exposed: np.ndarray) -> Comparison:
    """Compare cramp rates on exposed nights with the other nights.

    `counts` are cramps per logged night; `exposed` is 1.0/0.0 per night, NaN
    where the exposure was not recorded (those nights are left out, never
    counted as unexposed).
    """
    return compare_many(*([v] for v in sums(counts, exposed)))[0]


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
