"""Prepared statements for the few statements the API runs all the time.

Django binds parameters client-side and never prepares (right for connection poolers,
and for the ORM's ever-changing SQL). The token query, the episode INSERT and the sync's
INSERT are the same text on every request, and planning them cost PostgreSQL more than
running them.
A cursor from prepared_cursor() binds server-side, and psycopg prepares a statement once
it has run prepare_threshold times on the connection (settings: DATABASE_PREPARED_STATEMENTS).
A reconnect starts a new connection whose statements are prepared afresh.

Only for inserts and lookups by a key: a prepared statement keeps a generic plan, made
with the statistics of its time. One made on a fresh, empty table goes on being used as
the table grows until ANALYZE; a key lookup stays right, but preparing every statement
was tried and the bulk sync's uuid lookup kept scanning a user's whole diary
(bench/README.md).
"""

from django.db import DEFAULT_DB_ALIAS, connections


def prepared_cursor():
    """A cursor like connection.cursor() (health check, error wrapping, query logging) whose
    statements PostgreSQL prepares; connection.cursor() itself on other databases."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
    if db.vendor != "postgresql":
        return db.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What BaseDatabaseWrapper._cursor() does, with a server-binding cursor.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(ServerBindingCursor(db.connection))
