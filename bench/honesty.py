"""Honest over time: the analysis replayed after every logged night of a year, on simulated diaries.

    .venv/bin/python bench/honesty.py [--null 1000] [--power 300] [--processes 2]

Every diary is one year (365 nights, 90% logged), 0.3 to 1 cramps a night, clustered (negative binomial,
shape 1 unless --shape), analysed with the engine's own code (insights.analysis.analyse) as it stood
after each logged night.
It reports, against the targets of the issue "Honest over time":
- null diaries (no effect; a statin started on night 120 with no effect): the share ever shown a false
  pattern (any exposure rule) and ever shown an E0-E2 escalation; <= 5% and <= 1%;
- a planted rate ratio of 2.5 on exercise, cold feet or low fluids: detected by night 150 (>= 75%) and by
  night 365 (>= 95%);
- a statin start with rate ratio 3: flagged within 56 nights (>= 80%);
and the same figures for the single-look gate it replaced (exact 95% interval above 1 and a rate ratio of
at least 1.5, at every look), which is the price in power of the guarantee.
"""

import argparse
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cramptrack.settings")
os.environ.setdefault("SECRET_KEY", "bench")

EXPOSURE_KEYS = {"R02", "R02s", "R03", "R04", "R04s", "R10", "R16"}
PLANTED = {"exercise": "R02", "cold": "R03", "low_fluids": "R04"}
LOGGED = 330  # 365 calendar nights at 90%
BY_150 = 135  # logged nights by calendar night 150


SHAPE = 1.0  # negative-binomial shape of the night-to-night clustering; smaller clusters more


def _setup(shape: float):
    import django

    global SHAPE
    SHAPE = shape
    django.setup()


def _plan(seed: int, **kwargs):
    from insights.tests.synthetic import Plan

    rate = float(np.random.default_rng(seed).uniform(0.3, 1.0))
    return Plan(nights=LOGGED, base_rate=rate, clustering_k=SHAPE, missing_share=0.1, **kwargs)


def _single_look_gate(finding) -> bool:
    """The replaced gate: >= 28 nights each side and 10 cramps, exact 95% lower bound > 1, RR >= 1.5."""
    from insights import stats

    c = finding.counts
    if "nights_exposed" not in c:
        return False
    comparison = stats.Comparison(
        c["cramps_exposed"], c["nights_exposed"], c["cramps_other"], c["nights_other"], c["dispersion"]
    )
    if not stats.enough_data(comparison):
        return False
    rr = comparison.rate_ratio
    return stats.exact_interval(comparison, 0.05)[0] > 1 and (rr is None or rr >= stats.MIN_RATE_RATIO)


def null_diary(seed: int) -> tuple[bool, bool, bool, bool, set]:
    """(ever a false pattern, ever a false escalation, ever "held up", ever a false pattern by the old gate,
    the rules that escalated)."""
    from insights.findings import HIGHER, LOWER
    from insights.tests.synthetic import daily_looks

    pattern = escalation = firm = old = False
    escalated = set()
    for _, findings in daily_looks(_plan(seed, statin_start=120), seed):
        for f in findings:
            if f.key in EXPOSURE_KEYS:
                pattern |= f.status in (HIGHER, LOWER)
                firm |= f.firm
                old |= _single_look_gate(f)
            if f.escalation in ("E0", "E1", "E2"):
                escalation = True
                escalated.add(f.key.split(":")[0])
    return pattern, escalation, firm, old, escalated


def planted_diary(job: tuple[str, int]) -> tuple[str, int | None, int | None]:
    """Logged nights at the first detection of the planted pattern, by the new rules and by the old gate."""
    from insights.findings import HIGHER
    from insights.tests.synthetic import daily_looks

    effect, seed = job
    new = old = None
    for logged, findings in daily_looks(_plan(seed, effects={effect: 2.5}), seed):
        finding = next(f for f in findings if f.key == PLANTED[effect])
        if new is None and finding.status == HIGHER:
            new = logged
        if old is None and _single_look_gate(finding):
            old = logged
        if new is not None and old is not None:
            break
    return effect, new, old


def statin_diary(seed: int) -> bool:
    from insights.analysis import analyse
    from insights.panel import as_of
    from insights.tests.synthetic import synthetic_panel

    panel = synthetic_panel(_plan(seed, statin_start=150, statin_ratio=3.0), seed)
    start = panel.courses[0].started_on
    findings = analyse(as_of(panel, start + timedelta(days=56)))
    return any(f.rule == "R06" and f.escalation == "E2" for f in findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--null", type=int, default=1000, help="null diaries (default 1000)")
    parser.add_argument("--power", type=int, default=300, help="diaries per planted effect (default 300)")
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--shape", type=float, default=1.0, help="clustering: negative-binomial shape (default 1)")
    args = parser.parse_args()
    started = time.monotonic()
    with Pool(args.processes, initializer=_setup, initargs=(args.shape,)) as pool:
        null = pool.map(null_diary, range(args.null), chunksize=4)
        planted = pool.map(planted_diary, [(e, s) for e in PLANTED for s in range(args.power)], chunksize=4)
        statin = pool.map(statin_diary, range(args.power), chunksize=4)

    def share(values) -> str:
        values = list(values)
        return f"{100 * sum(values) / len(values):5.1f}%"

    print(f"{args.null} null diaries, daily looks for a year        new rules   single-look gate   target")
    false_new, false_old = share(n[0] for n in null), share(n[3] for n in null)
    print(f"  ever shown a false pattern (any exposure rule)   {false_new}      {false_old}             <= 5%")
    print(
        f"  ever shown a false E0-E2 escalation             {share(n[1] for n in null)}                         <= 1%"
    )
    print(f"  ever told a false pattern 'has held up'         {share(n[2] for n in null)}")
    escalated = Counter(rule for n in null for rule in n[4])
    print(f"  false escalations by rule: {dict(escalated) or 'none'}")
    print(f"{args.power} diaries per planted rate ratio 2.5")
    for effect in PLANTED:
        rows = [r for r in planted if r[0] == effect]
        for limit, night, target in ((BY_150, 150, ">= 75%"), (LOGGED, 365, ">= 95%")):
            new = share(r[1] is not None and r[1] <= limit for r in rows)
            old = share(r[2] is not None and r[2] <= limit for r in rows)
            print(f"  {effect:<10} detected by night {night}              {new}      {old}           {target}")
    print(f"  statin start, rate ratio 3, flagged within 56 nights {share(statin)}                    >= 80%")
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
