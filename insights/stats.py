"""Statistics that stay honest when a diary is looked at every day, for years.

The analysis re-runs after every logged night, so a test that is right at one look
would, looked at daily, sooner or later show a pattern that is not there. Two tools
keep the error rate over *all* looks and rules within a budget fixed in advance:

- **Confidence sequences** for the exposure rules, which are watched open-ended:
  a normal-mixture (Robbins) boundary on the log rate ratio, the "always valid"
  mSPRT of Johari et al. (2017, 2022) and the asymptotic confidence sequences of
  Waudby-Smith et al. (2021). The chance that it *ever* excludes the truth, over
  every look, is at most its alpha (Ville's inequality); each rule gets a share
  of ALPHA_PATTERNS (Bonferroni across rules).
- **Alpha spending over a fixed schedule of looks** for questions with a horizon,
  the medicine window (R06) and the trend blocks (R07): each scheduled look gets a
  share of the rule's alpha and an exact conditional test; between looks the last
  verdict stands.

Cramps cluster, so counts are first deflated by the dispersion factor
phi = max(1, Pearson chi-square / df) (quasi-Poisson), so that clustered nights
do not pass for independent evidence.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

# Family-wise error budgets over every look for the life of a diary.
ALPHA_PATTERNS = 0.05  # any false "possible pattern", across all exposure rules
ALPHA_ESCALATION = 0.01  # any false statistical escalation (R06 per medicine change + R07)

MIN_NIGHTS_EACH_SIDE = 28
MIN_CRAMPS = 10
MIN_RATE_RATIO = 1.5
# Prior spread of the log rate ratio in the mixture (rate ratios of about 1/3 to 3 are what a real trigger
# does): it sets where the boundary is tightest, a few months into a diary. Tuned by simulation (bench/honesty.py).
MIXTURE_SD = 1.0
# "A pattern that has held up": the same sequence at a 20 times smaller alpha still excludes no effect.
FIRM_FACTOR = 20


@dataclass(frozen=True)
class Comparison:
    """Cramps and logged nights on exposed nights against the other nights, with the dispersion factor."""

    cramps_exposed: int
    nights_exposed: int
    cramps_other: int
    nights_other: int
    dispersion: float

    @property
    def rate_ratio(self) -> float | None:
        if not self.nights_exposed or not self.nights_other or not self.cramps_other:
            return None
        return (self.cramps_exposed / self.nights_exposed) / (self.cramps_other / self.nights_other)

    @property
    def nights(self) -> int:
        return self.nights_exposed + self.nights_other

    @property
    def cramps(self) -> int:
        return self.cramps_exposed + self.cramps_other

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
    """(cramps, squared cramps, nights) on exposed nights, then on the other nights. `exposed` is 1.0/0.0 per
    night, NaN where not recorded (left out, never counted as unexposed)."""
    known = ~np.isnan(exposed)
    y, x = counts[known], exposed[known].astype(bool)
    y1, y0 = y[x], y[~x]
    return int(y1.sum()), int((y1 * y1).sum()), int(y1.size), int(y0.sum()), int((y0 * y0).sum()), int(y0.size)


def dispersion_from_sums(s1: int, q1: int, n1: int, s0: int, q0: int, n0: int) -> float:
    """phi = max(1, Pearson chi-square / df) of nightly counts around their group means.

    Per group with mean > 0, sum((y - mean)^2) / mean = (n * sum(y^2) - sum(y)^2) / sum(y)."""
    chi2, groups = 0.0, 0
    for s, q, n in ((s0, q0, n0), (s1, q1, n1)):
        if s > 0:
            chi2 += (n * q - s * s) / s
            groups += 1
    df = n1 + n0 - max(groups, 1)
    return max(1.0, chi2 / df) if df > 0 else 1.0


def compare(counts: np.ndarray, exposed: np.ndarray) -> Comparison:
    """Cramp rates on exposed nights against the other nights (NaN exposure: night left out)."""
    s1, q1, n1, s0, q0, n0 = sums(counts, exposed)
    return Comparison(s1, n1, s0, n0, dispersion_from_sums(s1, q1, n1, s0, q0, n0))


# --- Confidence sequences (exposure rules) -----------------------------------------------------------------


def _log_ratio(c: Comparison) -> tuple[float, float]:
    """Estimate and variance of the log rate ratio from dispersion-deflated counts (+0.5: no log of 0)."""
    y1, y0 = c.cramps_exposed / c.dispersion + 0.5, c.cramps_other / c.dispersion + 0.5
    return math.log(y1 / c.nights_exposed) - math.log(y0 / c.nights_other), 1 / y1 + 1 / y0


def confidence_sequence(c: Comparison, alpha: float) -> tuple[float, float]:
    """The rate ratio's normal-mixture confidence sequence at level 1 - alpha: over every look, for ever, it
    excludes the true ratio with probability at most alpha (asymptotically, in the counts)."""
    estimate, v = _log_ratio(c)
    t2 = MIXTURE_SD**2
    half_width = math.sqrt(v * (v + t2) / t2 * (2 * math.log(1 / alpha) + math.log((v + t2) / v)))
    return math.exp(estimate - half_width), math.exp(estimate + half_width)


def one_sided_sequence(c: Comparison, alpha: float) -> tuple[float, float]:
    """Bounds for a one-sided question at level alpha: the two-sided sequence at 2 * alpha. Its lower bound is
    the half-normal mixture's to within a factor Phi(b) > 0.999 at every crossing that matters here."""
    return confidence_sequence(c, 2 * alpha)


# --- Exact conditional tests (scheduled looks) -------------------------------------------------------------


def exact_interval(c: Comparison, alpha: float) -> tuple[float, float | None]:
    """Two-sided exact conditional (Clopper-Pearson) interval at level 1 - alpha from deflated counts: given
    Y1 + Y0 cramps, Y1 is binomial with p = RR*N1 / (RR*N1 + N0). High is None when there is no upper limit."""
    y1, y0 = c.cramps_exposed / c.dispersion, c.cramps_other / c.dispersion
    scale = c.nights_other / c.nights_exposed
    p_low = special.betaincinv(y1, y0 + 1, alpha / 2) if y1 > 0 else 0.0
    p_high = special.betaincinv(y1 + 1, y0, 1 - alpha / 2) if y0 > 0 else 1.0
    low = p_low / (1 - p_low) * scale
    high = p_high / (1 - p_high) * scale if p_high < 1 else None
    return float(low), (None if high is None else float(high))


def obrien_fleming_spent(alpha: float, fraction: float) -> float:
    """Lan-DeMets O'Brien-Fleming-type spending: the share of alpha used by the time `fraction` of the
    information is in. Little is spent early, so the last look keeps nearly the whole alpha."""
    if fraction <= 0:
        return 0.0
    z = -special.ndtri(alpha / 2)  # the normal quantile
    return float(min(alpha, 2 * special.ndtr(-z / math.sqrt(min(fraction, 1.0)))))


def block_alpha(alpha: float, look: int) -> float:
    """Alpha for the look-th of an open-ended series of scheduled looks (1, 2, ...): alpha / (look (look + 1)),
    which sums to alpha over all looks."""
    return alpha / (look * (look + 1))


def doubling_look(available: int, first: int) -> tuple[int, int] | None:
    """Scheduled looks at first, 2 * first, 4 * first ... units of data: (look number, units) of the latest one
    reached, or None before the first."""
    if available < first:
        return None
    look = int(math.log2(available / first)) + 1
    return look, first * 2 ** (look - 1)


def chi_square_p(observed: np.ndarray) -> float:
    """Goodness-of-fit p-value of counts against equal shares (scipy.stats.chisquare, without loading
    scipy.stats: about 100 MB in every process)."""
    expected = observed.sum() / observed.size
    return float(special.chdtrc(observed.size - 1, ((observed - expected) ** 2 / expected).sum()))


def binomial_half_p(k: int, n: int) -> float:
    """Two-sided exact p-value of k successes in n against p = 1/2 (scipy.stats.binomtest's, which for a
    symmetric null is twice the larger tail)."""
    k = max(k, n - k)
    if 2 * k == n:
        return 1.0
    return float(min(1.0, 2 * special.bdtrc(k - 1, n, 0.5)))


# --- What it takes to test --------------------------------------------------------------------------------


def enough_data(c: Comparison, min_nights: int = MIN_NIGHTS_EACH_SIDE) -> bool:
    return c.nights_exposed >= min_nights and c.nights_other >= min_nights and c.cramps >= MIN_CRAMPS


def nights_to_testable(c: Comparison, logged: int, min_nights: int = MIN_NIGHTS_EACH_SIDE) -> int | None:
    """More logged nights this diary needs, at its own pace, before the comparison can be tested.

    From the share of logged nights that record the field, the share of those that were exposed, and the
    cramp rate. None when that can't be estimated: the field was never recorded, the exposure never happened
    (or always did), or no cramp was logged yet.
    """
    recorded = c.nights
    if not logged or not recorded or not c.nights_exposed or not c.nights_other or not c.cramps:
        return None
    needed_recorded = max(
        min_nights * recorded / c.nights_exposed,
        min_nights * recorded / c.nights_other,
        MIN_CRAMPS * recorded / c.cramps,
    )
    return max(0, math.ceil((needed_recorded - recorded) * logged / recorded))
