"""The chunk queries read check-ins and episodes from their covering indexes alone (diary migrations 0003, 0004).

The INCLUDE lists are written out in diary/models.py and the migrations, apart from the columns
insights.chunk reads. A column added to a query but not to its index would silently turn every
index-only read back into one heap page per row (bench/ANALYSIS.md); this test names it instead.
"""

import json
from datetime import date

import pytest
from django.db import connection, transaction

from insights import chunk

pytestmark = pytest.mark.django_db

PARAMS = {"ids": [1, 2], "today": [date(2026, 11, 20)] * 2, "zone": ["UTC"] * 2, "third": 1 / 3, "trend": 28}


def scans(plan: dict) -> list[tuple[str, str]]:
    """(node type, table) of every scan node on a diary table in an EXPLAIN (FORMAT JSON) plan."""
    found = []
    if plan.get("Relation Name", "").startswith("diary_"):
        found.append((plan["Node Type"], plan["Relation Name"]))
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


@pytest.mark.parametrize("name", ["NIGHT_STATS_SQL", "EPISODE_STATS_SQL"])
def test_the_chunk_queries_read_check_ins_and_episodes_from_their_indexes_only(name):
    with transaction.atomic(), connection.cursor() as cursor:
        # Every other way to read the tables made dear: a query needing a column its index lacks
        # then plans a heap scan, whatever the (empty) test tables' statistics say.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_indexscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {getattr(chunk, name)}", PARAMS)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = scans(plan[0]["Plan"])
    assert {table for _, table in found} == {"diary_checkin", "diary_episode"}
    assert all(node == "Index Only Scan" for node, _ in found), found
