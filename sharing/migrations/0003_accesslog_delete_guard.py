"""PostgreSQL refuses DELETE on the access log unless the transaction said it may.

Two code paths say so (sharing.retention): erasing the patient's account and the retention
purge. A shell, a bulk delete or a stray cascade elsewhere is refused. SQLite (the
laptop default) has no session settings, so there only the model's guard applies.
"""

from django.db import migrations

UP = [
    """CREATE OR REPLACE FUNCTION sharing_accesslog_guard_delete() RETURNS trigger AS $$
    BEGIN
        IF coalesce(current_setting('cramptrack.accesslog_delete', true), '') <> 'on' THEN
            RAISE EXCEPTION 'sharing_accesslog rows go only with the patient''s account or by the retention purge';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER sharing_accesslog_delete_guard BEFORE DELETE ON sharing_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION sharing_accesslog_guard_delete()""",
]
DOWN = [
    "DROP TRIGGER IF EXISTS sharing_accesslog_delete_guard ON sharing_accesslog",
    "DROP FUNCTION IF EXISTS sharing_accesslog_guard_delete()",
]


def _run(schema_editor, statements) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in statements:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("sharing", "0002_accesslog_append_only")]

    operations = [
        migrations.RunPython(lambda apps, editor: _run(editor, UP), lambda apps, editor: _run(editor, DOWN)),
    ]
