"""The (user, date) unique index of check-ins also carries the columns the analysis reads (PostgreSQL only).

insights.chunk reads every check-in of a chunk of diaries. A diary's check-ins are written day by day
among everyone else's, so they lie on as many heap pages as there are check-ins; with these columns in
the index, which is ordered by user, the reads are index-only (bench/ANALYSIS.md). The constraint keeps
its name, its key and its meaning, so the model state does not change. SQLite has no INCLUDE and keeps
the plain index.
"""

from django.db import migrations

TABLE = "diary_checkin"
NAME = "checkin_one_per_user_and_date"
# insights.chunk: NIGHTS_SQL's ci and EPISODE_STATS_SQL's ci.
INCLUDE = (
    "no_cramps",
    "bedtime",
    "wake_time",
    "exercise_minutes",
    "harder_than_usual",
    "fluids_cups",
    "heavy_sweating",
    "vomiting_diarrhoea",
    "feet_cold",
    "hours_sitting",
    "hours_standing",
    "stress",
    "sleep_disturbance",
    "stretched_before_bed",
)


def _replace(schema_editor, include: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # One statement: the table is never without its unique constraint.
    schema_editor.execute(
        f"ALTER TABLE {TABLE} DROP CONSTRAINT {NAME}, ADD CONSTRAINT {NAME} UNIQUE (user_id, date){include}"
    )


def covering(apps, schema_editor):
    _replace(schema_editor, f" INCLUDE ({', '.join(INCLUDE)})")


def plain(apps, schema_editor):
    _replace(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0002_digest_schedule"),
    ]

    operations = [migrations.RunPython(covering, plain, elidable=False)]
