"""Keeping every diary's findings fresh: which diaries are due for analysis, claiming them for
one run, and analysing a chunk of them and saving their findings in place of the old ones."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from diary.models import Profile

from .analysis import ANALYSIS_VERSION, HIGHER, LOWER, analyse
from .models import AnalysisState, Finding
from .panel import load_panels

STALE_AFTER = timedelta(hours=24)  # "today" moves: red-flag windows and trends need a daily refresh
# A queued chunk whose message is lost (a Redis restart without persistence) is planned again after this.
PLAN_CLAIM_TIMEOUT = timedelta(seconds=settings.ANALYSIS_CLAIM_SECONDS)


def due_user_ids(now=None, limit: int | None = None) -> list[int]:
    """Diaries with data that changed since their last analysis, or analysed too long ago."""
    now = now or timezone.now()
    state = "user__analysis_state"
    due = (
        Profile.objects.filter(diary_changed_at__isnull=False)
        .filter(
            Q(**{f"{state}__analysed_at__isnull": True})
            | Q(diary_changed_at__gt=F(f"{state}__analysed_at"))
            | Q(**{f"{state}__analysed_at__lt": now - STALE_AFTER})
            | ~Q(**{f"{state}__version": ANALYSIS_VERSION})
        )
        .filter(
            Q(**{f"{state}__planned_at__isnull": True}) | Q(**{f"{state}__planned_at__lt": now - PLAN_CLAIM_TIMEOUT})
        )
        .order_by("diary_changed_at")
        .values_list("user_id", flat=True)
    )
    return list(due[:limit] if limit else due)


def changed_since_analysis(user_ids: list[int]) -> list[int]:
    """Of these diaries, those written to since their last analysis (or never analysed)."""
    state = "user__analysis_state"
    return list(
        Profile.objects.filter(user_id__in=user_ids, diary_changed_at__isnull=False)
        .filter(Q(**{f"{state}__analysed_at__isnull": True}) | Q(diary_changed_at__gt=F(f"{state}__analysed_at")))
        .values_list("user_id", flat=True)
    )


def claim(user_ids: list[int], now=None) -> list[int]:
    """Mark diaries as queued; returns only those this caller claimed (a second planner gets none)."""
    now = now or timezone.now()
    AnalysisState.objects.bulk_create([AnalysisState(user_id=uid) for uid in user_ids], ignore_conflicts=True)
    with transaction.atomic():
        free = list(
            AnalysisState.objects.select_for_update(skip_locked=True)
            .filter(user_id__in=user_ids)
            .filter(Q(planned_at__isnull=True) | Q(planned_at__lt=now - PLAN_CLAIM_TIMEOUT))
            .values_list("user_id", flat=True)
        )
        AnalysisState.objects.filter(user_id__in=free).update(planned_at=now)
    return free


def analyse_and_store(user_ids: list[int], now=None) -> int:
    """Analyse a chunk of diaries and replace their findings; running it twice changes nothing.

    The chunk's rows are loaded in a fixed handful of queries (insights.panel.load_panels), then each diary's
    findings come from its own panel: the same code on SQLite and PostgreSQL.
    """
    now = now or timezone.now()
    panels = load_panels(user_ids, now=now)
    previous = _previous(user_ids)
    rows = []
    for panel in panels:
        old_findings = previous.get(panel.user_id, {})
        history = {key: (status, nights) for key, (status, nights, _) in old_findings.items()}
        for rank, finding in enumerate(analyse(panel, history)):
            first_at = None
            if finding.status in (HIGHER, LOWER):
                old = old_findings.get(finding.key)
                first_at = old[2] if old and old[0] == finding.status and old[2] is not None else now
            ci_low, ci_high = finding.interval or (None, None)
            rows.append(
                Finding(
                    user_id=panel.user_id,
                    key=finding.key[:120],
                    rule=finding.rule,
                    trigger=finding.trigger,
                    status=finding.status,
                    escalation=finding.escalation or "",
                    rank=rank,
                    counts=finding.counts,
                    rate_ratio=finding.rate_ratio,
                    ci_low=ci_low,
                    ci_high=ci_high,
                    nights_needed=finding.nights_needed,
                    message=finding.message,
                    tip=finding.tip,
                    source=finding.source,
                    firm=finding.firm,
                    first_detected_at=first_at,
                    first_detected_nights=finding.first_detected_nights,
                    analysis_version=ANALYSIS_VERSION,
                    analysed_at=now,
                )
            )
    analysed = [panel.user_id for panel in panels]
    AnalysisState.objects.bulk_create([AnalysisState(user_id=uid) for uid in analysed], ignore_conflicts=True)
    with transaction.atomic():
        # One analysis of a diary writes at a time (a chunk whose claim expired, a weekly email's batch):
        # the second waits here, then replaces the first one's findings instead of colliding with them.
        list(AnalysisState.objects.select_for_update().filter(user_id__in=analysed).order_by("user_id"))
        Finding.objects.filter(user_id__in=analysed).delete()
        Finding.objects.bulk_create(rows)
        AnalysisState.objects.filter(user_id__in=analysed).update(
            analysed_at=now, version=ANALYSIS_VERSION, planned_at=None
        )
    return len(analysed)


def _previous(user_ids: list[int]) -> dict[int, dict[str, tuple]]:
    out: dict[int, dict[str, tuple]] = {}
    rows = Finding.objects.filter(user_id__in=user_ids, status__in=[HIGHER, LOWER]).values_list(
        "user_id", "key", "status", "first_detected_nights", "first_detected_at"
    )
    for user_id, key, status, nights, at in rows:
        out.setdefault(user_id, {})[key] = (status, nights, at)
    return out
