"""The database refuses UPDATE on the access log, whatever code or shell tries it.

DELETE stays possible: the log goes with the patient's account when they erase it.
"""

from django.db import migrations

# One statement per string: drivers differ on several statements in one execute().
POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION sharing_accesslog_refuse_update() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'sharing_accesslog is append-only';
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER sharing_accesslog_append_only BEFORE UPDATE ON sharing_accesslog
    FOR EACH ROW EXECUTE FUNCTION sharing_accesslog_refuse_update()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS sharing_accesslog_append_only ON sharing_accesslog",
    "DROP FUNCTION IF EXISTS sharing_accesslog_refuse_update()",
]
SQLITE_UP = [
    """CREATE TRIGGER sharing_accesslog_append_only BEFORE UPDATE ON sharing_accesslog
    BEGIN SELECT RAISE(ABORT, 'sharing_accesslog is append-only'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS sharing_accesslog_append_only"]

SQL = {"postgresql": (POSTGRES_UP, POSTGRES_DOWN), "sqlite": (SQLITE_UP, SQLITE_DOWN)}


def _run(schema_editor, index: int) -> None:
    for statement in SQL.get(schema_editor.connection.vendor, ([], []))[index]:
        schema_editor.execute(statement, params=None)


def up(apps, schema_editor):
    _run(schema_editor, 0)


def down(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial")]

    operations = [migrations.RunPython(up, down)]
