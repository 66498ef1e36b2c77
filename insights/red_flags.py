"""Red flags as the person meets them outside the insights page: the weekly email's box (what, when, what
to do and where) and "I've seen someone about this", recorded the same way from the API and the email link."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from diary.models import touch_diary

from .catalogue import ESCALATION_LEVELS, entry
from .diary_stats import FLAGS, Reported
from .models import RED_FLAG_CHOICES, Finding, RedFlagAcknowledgement
from .panel import EPOCH, MICROSECOND, load_panels
from .panel_stats import reported_flags
from .refresh import analyse_and_store
from .rules.hard_stops import FLAG_LEVELS, MEANWHILE, day

LABELS = dict(RED_FLAG_CHOICES)

# What to do, by level: when, then what and where. Numbers for the places most users live; the words
# work anywhere. Never advice on medicines beyond what the finding itself says.
WHAT_TO_DO = {
    "E0": (
        "Now",
        "Call your emergency number (999 in the UK, 112 in the EU, 911 in the US and Canada) or go to the "
        "nearest emergency department. Don't drive yourself.",
    ),
    "E1": (
        "Today",
        "Call your GP or doctor's surgery and ask to be seen today. If they can't see you, go to an urgent care "
        "or walk-in centre (in the UK, call 111 or go to 111.nhs.uk). If it gets worse, call your emergency number.",
    ),
    "E2": (
        "In the next week or two",
        "Book an appointment with your GP or doctor and show them your diary: you can share it with them from "
        "CrampTrack (Sharing).",
    ),
}

# What to do tonight, when the surgery is shut: the phone app shows it beside a tap-to-call for the numbers the
# person set under You (the generic words when they set none).
TONIGHT = {
    "E0": "Don't wait for the morning: call now, day or night.",
    "E1": "If your doctor's surgery is closed, call a non-emergency medical line for advice tonight (111 in the UK) "
    "rather than waiting for the morning. If you become breathless, have chest pain or feel much worse, call your "
    "emergency number.",
}

# Escalations that are not a reported symptom, named as the person would say them.
TITLES = {"R07": "Your cramps are becoming more frequent", "R06": "More cramps since a change in a medicine"}


@dataclass
class Notice:
    """One E0-E2 escalation as the weekly email shows it."""

    level: str
    title: str  # in the person's words: "A swollen, red or warm calf"
    reported: str  # "Reported on 4 Nov 2026", or "" for an escalation that is not a report
    message: str
    when: str  # "Today"
    what: str  # what to do and where
    source: str
    flag: str = ""  # the red flag to acknowledge, if it is one
    last: date | None = None  # the latest report

    @property
    def urgent(self) -> bool:
        return self.level in ("E0", "E1")


def notice(finding: Finding) -> Notice:
    flag = finding.counts.get("flag", "")
    when, what = WHAT_TO_DO[finding.escalation]
    return Notice(
        level=finding.escalation,
        title=LABELS.get(flag) or TITLES.get(finding.rule) or entry(finding.trigger).title,
        reported=_reported(finding.counts),
        message=finding.message,
        when=when,
        what=what,
        source=finding.source,
        flag=flag if flag in FLAGS else "",
        last=date.fromisoformat(finding.counts["last_reported"]) if "last_reported" in finding.counts else None,
    )


def _reported(counts: dict) -> str:
    if "first_reported" not in counts:
        return ""
    first, last = date.fromisoformat(counts["first_reported"]), date.fromisoformat(counts["last_reported"])
    if first == last:
        return f"Reported on {day(first)}"
    return f"Reported {counts.get('reports', 2)} times, first on {day(first)}, last on {day(last)}"


def urgent_checklist() -> dict[str, dict[str, str]]:
    """The checklist boxes that raise an E0 or E1, with what to do, most urgent first. They need no statistics,
    so the phone app shows them as soon as a box is ticked and saved, offline too: this goes into its pages."""
    urgent = sorted((level, name) for name, level in FLAG_LEVELS.items() if level in ("E0", "E1"))
    return {
        name: {
            "level": level,
            "label": ESCALATION_LEVELS[level][0],
            "action": ESCALATION_LEVELS[level][1],
            "title": LABELS[name],
            "when": WHAT_TO_DO[level][0],
            "what": WHAT_TO_DO[level][1],
            "tonight": TONIGHT[level],
            "meanwhile": MEANWHILE.get(name, ""),
        }
        for level, name in urgent
    }


def active(user_id: int) -> dict[str, Reported]:
    """The red flags reported since the person last said they had seen someone about them, from the diary as
    it is now (no analysis run needed), by name."""
    panels = load_panels([user_id])
    return reported_flags(panels[0]) if panels else {}


def acknowledge(user_id: int, flag: str) -> tuple[RedFlagAcknowledgement | None, bool]:
    """The person has seen a clinician about a flag: it leaves the active findings now and stays in the history.

    Returns the acknowledgement and whether it is new; once acknowledged, the same call returns the same one
    until a new report raises the flag again. (None, False) for a flag this person never reported.
    """
    reported = reported_now(user_id, flag)
    if reported is None:
        return RedFlagAcknowledgement.objects.filter(user_id=user_id, flag=flag).first(), False
    with transaction.atomic():
        acknowledgement, created = RedFlagAcknowledgement.objects.get_or_create(
            user_id=user_id,
            flag=flag,
            reported_until=EPOCH + reported.until * MICROSECOND,
            defaults={
                "first_reported_on": reported.first,
                "last_reported_on": reported.last,
                "acknowledged_at": timezone.now(),
            },
        )
        touch_diary(user_id)
    # The findings change now, not at the next tick: the page that asked shows them straight after.
    analyse_and_store([user_id])
    return acknowledgement, created


def reported_now(user_id: int, flag: str):
    """The flag's current report (first and last date, times) if it is active, else None."""
    return active(user_id).get(flag) if flag in FLAGS else None
