"""The clinician's list of patients, most in need of attention first.

One panel load and one scoped findings load for all of a clinician's patients,
whatever their number (insights.panel loads a chunk in a fixed number of queries;
sharing.shared_findings applies each grant's scope in two).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from diary.models import CONDITION_FIELDS, Profile, field_label
from insights.models import AnalysisState, Finding
from insights.panel import Panel, load_panels

from . import alerts, charts, figures
from .models import SCOPES, Grant
from .shared_findings import findings_for_grants

SPARK_NIGHTS = 60


@dataclass
class PatientSummary:
    grant: Grant
    panel: Panel | None
    recent: figures.Window | None = None
    previous: figures.Window | None = None
    findings: list[Finding] = field(default_factory=list)
    urgent: list[Finding] = field(default_factory=list)
    badges: list[alerts.Alert] = field(default_factory=list)  # every current E0-E2, in clinician words
    worsening: bool | None = None
    analysed_at: datetime | None = None

    @property
    def attention(self) -> tuple:
        """Sort key: urgent red flags, then any other badge or a worsening trend, then the recent rate (if shown)."""
        rate = self.recent.shown_rate if self.recent and self.recent.shown_rate is not None else -1
        return (
            0 if self.urgent else 1,
            0 if (self.badges or self.worsening) else 1,
            -rate,
            self.grant.patient.email,
        )

    @property
    def worsening_badge(self) -> bool:
        """The plain 30-night screen, unless R07's trend escalation already has a badge saying so."""
        return bool(self.worsening) and not figures.trend_escalated(self.findings)

    @property
    def sparkline(self):
        if self.panel is None or not self.grant.episodes_checkins:
            return None
        end = figures.last_night(self.panel)
        start = end - timedelta(days=SPARK_NIGHTS - 1)
        return charts.sparkline([v for _, v in figures.nightly(self.panel, start, end)])

    def as_dict(self) -> dict:
        shared = self.grant.episodes_checkins
        return {
            "id": self.grant.uuid,
            "email": self.grant.patient.email,
            "practice": self.grant.practice_name,
            "scope": {name: getattr(self.grant, name) for name in SCOPES},
            "expires_at": self.grant.expires_at,
            "timezone": self.grant.patient.profile.timezone,
            "last_30_nights": self.recent.as_dict() if shared and self.recent else None,
            "previous_30_nights": self.previous.as_dict() if shared and self.previous else None,
            "red_flags": len(self.urgent) if self.grant.insights else None,
            "worsening": self.worsening,
        }


def summaries(grants: list[Grant], now=None) -> list[PatientSummary]:
    panels = {p.user_id: p for p in load_panels([g.patient_id for g in grants], now=now)} if grants else {}
    with_insights = [g.patient_id for g in grants if g.insights]
    findings = findings_for_grants([g for g in grants if g.insights])
    analysed = dict(AnalysisState.objects.filter(user_id__in=with_insights).values_list("user_id", "analysed_at"))
    out = []
    for grant in grants:
        summary = PatientSummary(grant, panels.get(grant.patient_id))
        if grant.episodes_checkins and summary.panel is not None:
            summary.recent, summary.previous = figures.recent_and_previous(summary.panel)
            summary.worsening = figures.worsening(summary.recent, summary.previous)
        if grant.insights:
            summary.findings = findings[grant.pk]
            summary.analysed_at = analysed.get(grant.patient_id)
            summary.urgent = figures.urgent(summary.findings)
            if summary.panel is not None:
                summary.badges = alerts.badges(grant, summary.findings, summary.panel)
            summary.worsening = bool(summary.worsening) or figures.trend_escalated(summary.findings)
        out.append(summary)
    return sorted(out, key=lambda s: s.attention)


def profile_facts(grant: Grant) -> dict:
    """What the clinician always sees about the patient (the share form says so)."""
    profile = grant.patient.profile
    conditions = [
        field_label(Profile, name).removeprefix("has ") for name in CONDITION_FIELDS if getattr(profile, name)
    ]
    return {
        "email": grant.patient.email,
        "name": grant.patient.get_full_name(),
        "birth_year": profile.birth_year,
        "sex": profile.sex,
        "pregnant": profile.pregnant,
        "due_date": profile.due_date,
        "postmenopausal": profile.postmenopausal,
        "conditions": conditions,
        "timezone": profile.timezone,
    }
