"""The chunked path (SQL aggregates + vectorised maths) gives exactly the findings of the per-diary path."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from accounts.models import User
from insights import store
from insights.analysis import ESCALATION, HIGHER, INFO, INSUFFICIENT, LOWER, NO_PATTERN, analyse, findings_from
from insights.chunk import chunk_stats
from insights.models import Finding
from insights.panel import load_panels
from insights.tests.synthetic import save_diary, varied_diary

pytestmark = pytest.mark.django_db

END = date(2026, 3, 31)  # the last weeks cross Europe/London's and Australia/Sydney's DST changes
NOW = datetime(2026, 3, 31, 13, 0, tzinfo=UTC)
DIARIES = 90


@pytest.fixture(scope="module")
def diaries(django_db_setup, django_db_blocker):
    """Written once for the module (committed), removed at the end; each test still runs in its own transaction."""
    with django_db_blocker.unblock():
        users = []
        for seed in range(DIARIES):
            # No password: hashing one (argon2) would take most of this fixture's time.
            user = User.objects.create_user(email=f"varied{seed}@example.org", password=None)
            save_diary(user, varied_diary(seed, END))
            users.append(user)
        users.append(User.objects.create_user(email="empty@example.org", password=None))  # no data at all
        yield [user.pk for user in users]
        for user in users:
            user.delete()


def test_the_chunked_path_gives_the_same_findings_as_the_per_diary_path(diaries):
    reference = {panel.user_id: analyse(panel) for panel in load_panels(diaries, now=NOW)}
    chunked = {}
    for start in range(0, len(diaries), 40):  # chunks of different sizes, as the workers see them
        for d in chunk_stats(diaries[start : start + 40], now=NOW):
            chunked[d.user_id] = findings_from(d)

    assert chunked.keys() == reference.keys() == set(diaries)
    for user_id in diaries:
        assert [f.as_dict() for f in chunked[user_id]] == [f.as_dict() for f in reference[user_id]], user_id

    # The batch covers every rule and every status, so the equality above means something.
    seen = Counter((f.rule, f.status) for findings in reference.values() for f in findings)
    assert {status for _, status in seen} == {INSUFFICIENT, NO_PATTERN, HIGHER, LOWER, ESCALATION, INFO}
    rules = {rule for rule, _ in seen}
    assert rules >= {f"R{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)} | {"R06b"}
    for rule in ("R02", "R03", "R07", "R06"):
        assert {status for r, status in seen if r == rule} >= {INSUFFICIENT, NO_PATTERN}, rule
    assert {status for r, status in seen if r == "R03"} >= {HIGHER, LOWER}
    levels = {f.escalation for findings in reference.values() for f in findings}
    assert levels >= {"E0", "E1", "E2", "E3"}
    keys = {
        f.key.split(":")[0] + (":" + f.key.split(":")[1] if f.key.startswith(("R07:", "R09:")) else "")
        for findings in reference.values()
        for f in findings
    }
    assert {"R07:burden", "R09:thigh", "guardrail"} <= keys


def test_persistence_is_carried_the_same_way(diaries):
    panels = {panel.user_id: panel for panel in load_panels(diaries, now=NOW)}
    checked = 0
    for d in chunk_stats(diaries, now=NOW):
        first = analyse(panels[d.user_id])
        history = {f.key: (f.status, d.logged_nights - 20) for f in first if f.status in (HIGHER, LOWER)}
        if not history:
            continue
        again = findings_from(d, history)
        assert [f.as_dict() for f in again] == [f.as_dict() for f in analyse(panels[d.user_id], history)]
        assert any(f.firm for f in again)
        checked += 1
    assert checked >= 5


def test_stored_findings_are_the_per_diary_findings(diaries):
    store.analyse_and_store(diaries, now=NOW)
    reference = {panel.user_id: analyse(panel) for panel in load_panels(diaries, now=NOW)}
    stored = {}
    for row in Finding.objects.filter(user_id__in=diaries).order_by("user_id", "rank"):
        stored.setdefault(row.user_id, []).append(
            (row.key, row.status, row.escalation or None, row.message, row.tip, row.counts, row.rate_ratio)
        )
    expected = {
        uid: [(f.key, f.status, f.escalation, f.message, f.tip, f.counts, f.rate_ratio) for f in findings]
        for uid, findings in reference.items()
        if findings
    }
    assert stored == expected
