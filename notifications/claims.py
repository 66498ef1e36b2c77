"""The exactly-once machinery every scheduled notification shares (the weekly email, the morning reminder).

A delivery row is unique per person and occasion. A worker claims it with a conditional UPDATE before
sending (pending or failed rows whose next attempt time has passed, or a claim whose worker died and whose
lease ran out), then marks it sent: a second beat, a retried task or a second worker finds nothing to claim.
Each channel keeps its own model, attempt limit and lease; the rules are written once, here.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db.models import F, Q


def claimable(now, max_attempts: int, lease: timedelta) -> Q:
    """Rows whose next attempt time has passed (new ones and retries after their backoff), and claims whose
    worker died (the lease ran out); never more than `max_attempts` tries."""
    return Q(attempts__lt=max_attempts) & (
        Q(status__in=["pending", "failed"], next_attempt_at__lte=now) | Q(status="sending", claimed_at__lt=now - lease)
    )


def waiting(model, claimable_now: Q) -> list[int]:
    """The ids of every claimable row, oldest due first."""
    return list(model.objects.filter(claimable_now).order_by("next_attempt_at", "pk").values_list("id", flat=True))


def claim(model, delivery_id: int, claimable_now: Q, now, attempts: int | None = None) -> bool:
    """Move one claimable row to "sending"; True if this caller now owns it. With `attempts` (as the caller
    read the row), only if no other worker has tried it since."""
    rows = model.objects.filter(claimable_now, pk=delivery_id)
    if attempts is not None:
        rows = rows.filter(attempts=attempts)
    return rows.update(status="sending", claimed_at=now, attempts=F("attempts") + 1) == 1


def plan_in_batches(
    create_due: Callable[[], int], batch_size: int, waiting_now: Callable[[], list[int]]
) -> Iterator[list[int]]:
    """Create due rows a batch of people per transaction (`create_due` returns how many were due); after each
    commit, yield the claimable ids not yielded before, so sending starts while the next batch is planned."""
    seen: set[int] = set()
    while True:
        more = create_due() == batch_size
        ids = [pk for pk in waiting_now() if pk not in seen]
        seen.update(ids)
        if ids:
            yield ids
        if not more:
            return
