"""The episode (user, night) index and the check-in (user, date) unique constraint without INCLUDE columns.

Migrations 0003 and 0004 added the columns a second analysis engine read from the index alone; that
engine is gone, and the plain keys serve every query left (see the comments in diary/models.py).
The check-in constraint keeps its name, key and meaning, so only PostgreSQL's index changes (SQLite
never had the INCLUDE).
"""

from django.db import migrations, models


def plain_checkin_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # One statement: the table is never without its unique constraint.
    schema_editor.execute(
        "ALTER TABLE diary_checkin DROP CONSTRAINT checkin_one_per_user_and_date, "
        "ADD CONSTRAINT checkin_one_per_user_and_date UNIQUE (user_id, date)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0005_profile_changed_marker_not_indexed"),
    ]

    operations = [
        # Backwards the plain constraint is kept: without the engine the INCLUDE has no reader.
        migrations.RunPython(plain_checkin_constraint, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(model_name="episode", name="episode_user_night"),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(fields=["user", "night"], name="episode_user_night"),
        ),
    ]
