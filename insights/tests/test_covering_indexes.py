"""The chunk queries can read check-ins and episodes from their covering indexes alone (diary migrations 0003, 0004).

The INCLUDE lists are written out in diary/models.py and the migrations, apart from the columns
insights.chunk reads. A column added to a query but not to its index would silently turn every
index-only read back into one heap page per row (bench/ANALYSIS.md); this test names it instead.
"""

import re

import pytest
from django.db import connection

from insights import chunk

pytestmark = pytest.mark.django_db

QUERIES = [chunk.NIGHT_STATS_SQL, chunk.EPISODE_STATS_SQL, chunk.BURDEN_SQL, chunk.CHANGE_STATS_SQL]
# A select list straight from a diary table (no FROM or SELECT inside it).
READ = re.compile(
    r"SELECT\s+(?P<columns>(?:(?!\bFROM\b|\bSELECT\b).)*?)\s+FROM\s+(?P<table>diary_checkin|diary_episode)\s+WHERE",
    re.S,
)


def columns_read() -> dict[str, set[str]]:
    """Every column the chunk queries select from each diary table (functions such as count(*) aside)."""
    read: dict[str, set[str]] = {}
    for sql in QUERIES:
        for match in READ.finditer(sql):
            names = {re.match(r"\w+", item.strip()).group() for item in match["columns"].split(",")}
            read.setdefault(match["table"], set()).update(names - {"count"})
    return read


def indexed_columns(table: str) -> list[set[str]]:
    """The columns (key and INCLUDE) of each index on a table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT array_agg(a.attname) FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = %s::regclass GROUP BY i.indexrelid""",
            [table],
        )
        return [set(row[0]) for row in cursor.fetchall()]


def test_the_chunk_queries_read_only_columns_their_covering_indexes_hold():
    read = columns_read()
    assert set(read) == {"diary_checkin", "diary_episode"}
    assert {"user_id", "night", "started_at", "pain_between_cramps"} <= read["diary_episode"]
    assert {"user_id", "date", "no_cramps", "bedtime", "stretched_before_bed"} <= read["diary_checkin"]
    for table, columns in read.items():
        assert any(columns <= held for held in indexed_columns(table)), (table, columns)
