"""Pattern analysis of one diary: pure functions from a Panel to Findings.

The rules are those of insights.catalogue.RULES, with the thresholds and
wording of insights.rules and insights.findings.
Hard-stop rules (red flags) fire on the first report; exposure rules must pass
the statistical gate in insights.stats; every message shows its counts,
calls a first detection a "possible pattern", never claims a cause, and
names the guidance behind it. While an E0-E2 escalation is active no
lifestyle tip is given.

Two deliberate choices, each to avoid a false alarm:
- R04 (fluids) is not run for people on a diuretic, with heart, kidney or
  liver disease, or on a fluid restriction, and this does not raise an E2
  by itself: having a condition is not a new finding, and an E2
  would silence every other tip for everyone on a diuretic. The finding says
  to ask their clinician about fluids instead.
- A red flag stays active, with its report dates, until the person says they
  have seen a clinician about it; then it moves to their history.
"""

from .diary_stats import DiaryStats
from .findings import ESCALATION, HIGHER, INFO, INSUFFICIENT, LOWER, NO_PATTERN, Finding
from .panel import Panel
from .panel_stats import from_panel
from .rules.descriptive import (
    r01_night_pattern,
    r07_trend_and_burden,
    r08_time_of_night,
    r09_side_and_site,
    r11_pregnancy,
    r15_age_gate,
)
from .rules.exposures import exposure_rules, fluid_rule_note
from .rules.hard_stops import quinine_guardrail, r05_claudication, r14_atypical, red_flags
from .rules.medications import r06_medication_starts, r06b_supplements

__all__ = [
    "ANALYSIS_VERSION",
    "ESCALATION",
    "HIGHER",
    "INFO",
    "INSUFFICIENT",
    "LOWER",
    "NO_PATTERN",
    "Finding",
    "analyse",
    "findings_from",
]


ANALYSIS_VERSION = "1.0"


def analyse(panel: Panel, previous: dict[str, tuple[str, int]] | None = None) -> list[Finding]:
    """All findings for one diary, most urgent first.

    `previous` maps a finding key to (status, logged nights when it was first
    detected), so a pattern keeps the date it was first seen.
    """
    return findings_from(from_panel(panel), previous)


def findings_from(d: DiaryStats, previous: dict[str, tuple[str, int]] | None = None) -> list[Finding]:
    """The findings of one diary from its statistics (see analyse)."""
    age_gate = r15_age_gate(d)
    if age_gate:
        return [age_gate]

    findings: list[Finding] = []
    findings += red_flags(d)
    findings += r05_claudication(d)
    findings += r14_atypical(d)
    findings += quinine_guardrail(d)
    findings += [r01_night_pattern(d)]
    findings += [rule.evaluate(d.exposures[rule.key], d.logged_nights) for rule in exposure_rules(d)]
    if (note := fluid_rule_note(d)) is not None:
        findings.append(note)
    findings += r06_medication_starts(d)
    findings += r06b_supplements(d)
    findings += r07_trend_and_burden(d)
    findings += [r08_time_of_night(d), *r09_side_and_site(d)]
    if d.profile.get("pregnant"):
        findings.append(r11_pregnancy(d))

    _apply_persistence(findings, d.logged_nights, previous or {})
    _apply_precedence(findings, pregnant=bool(d.profile.get("pregnant")))
    return sorted(findings, key=_urgency)


def _urgency(finding: Finding):
    level = {"E0": 0, "E1": 1, "E2": 2, "E3": 4}.get(finding.escalation or "", 9)
    status = {ESCALATION: 0, HIGHER: 3, LOWER: 3, INFO: 5, INSUFFICIENT: 6, NO_PATTERN: 7}[finding.status]
    strength = -(finding.interval[0] or 0) if finding.interval and finding.status == HIGHER else 0
    return (min(level, status), level, status, strength, finding.key)


def _apply_precedence(findings: list[Finding], *, pregnant: bool) -> None:
    """An active E0-E2 escalation suppresses lifestyle tips: urgent advice comes alone."""
    urgent = any(f.escalation in ("E0", "E1", "E2") for f in findings)
    for finding in findings:
        if urgent and finding.status != ESCALATION:
            finding.tip = ""
        elif pregnant and finding.rule not in ("R11", "R01"):
            finding.tip = ""  # pregnancy mode: only the restricted R11 tips


def _apply_persistence(findings: list[Finding], logged: int, previous: dict) -> None:
    """Remember when a pattern was first seen. Its firmer wording comes from the statistics (Finding.firm),
    never from a count of nights, which would not keep the error guarantee."""
    for finding in findings:
        if finding.status not in (HIGHER, LOWER):
            continue
        status, first = previous.get(finding.key, (None, None))
        same = status == finding.status and first is not None
        finding.first_detected_nights = first if same else logged
