"""What a diary cannot tell yet, and what would tell it: the weekly email's nudge and its "not yet" lines.

Only what the analysis computed. The nudge names the comparison that logging will make testable soonest
(Finding.nights_needed, at the person's own pace) and the check-in answer it needs; never one about a thing
already reported as a pattern. The email leaves both out beside a red flag.
"""

from .findings import HIGHER, INSUFFICIENT, LOWER, NO_PATTERN
from .models import Finding
from .rules.exposures import BY_KEY

THIN_WEEK = 4  # fewer logged nights than this: the nudge is about logging at all


def thin_week_nudge(logged: int, nights: int) -> str:
    of = "7 nights" if nights == 7 else f"the {nights} nights since your diary began"
    return (
        f'You logged {logged} of {of} this week. A one-tap morning check-in, even "no cramps", is what lets '
        "CrampTrack compare your nights."
    )


def nudge(findings: list[Finding]) -> str:
    """The soonest testable comparison, within a year at this person's pace, and the answer it needs."""
    patterns = {f.trigger for f in findings if f.status in (HIGHER, LOWER)}
    waiting = [
        f
        for f in findings
        if f.key in BY_KEY
        and f.status == INSUFFICIENT
        and f.trigger not in patterns
        and f.nights_needed
        and f.nights_needed <= 365
    ]
    if not waiting:
        return ""
    soonest = min(waiting, key=lambda f: f.nights_needed or 0)  # all set: filtered above
    rule = BY_KEY[soonest.key]
    return (
        f"Next to test: {rule.topic}. At your pace that needs about {soonest.nights_needed} more logged nights "
        f"with {rule.record_words} in your check-in."
    )


def lines(findings: list[Finding]) -> list[str]:
    """At most two lines: the comparisons that found no clear difference, and those never recorded."""
    out = []
    no_difference = [BY_KEY[f.key].topic for f in findings if f.key in BY_KEY and f.status == NO_PATTERN]
    if no_difference:
        out.append(
            f"No clear difference so far with {_or(no_difference)}. That isn't proof there is none: CrampTrack "
            "keeps comparing as your diary grows."
        )
    never_recorded = [
        BY_KEY[f.key].topic
        for f in findings
        if f.key in BY_KEY and f.status == INSUFFICIENT and not _recorded_nights(f.counts)
    ]
    if never_recorded:
        out.append(
            f"Not testable yet: {_and(never_recorded)}, because your check-ins haven't recorded "
            f"{'it' if len(never_recorded) == 1 else 'them'}. The evening check-in asks."
        )
    return out


def _recorded_nights(counts: dict) -> int:
    return counts.get("nights_exposed", 0) + counts.get("nights_other", 0)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
