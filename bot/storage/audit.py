"""The audit trail is append-only: the database itself refuses to change or remove a row.

On PostgreSQL a trigger raises on UPDATE and DELETE of any row, and on
TRUNCATE; on SQLite triggers abort UPDATE and DELETE. The application only
ever inserts (bot/roles/sharing.py). An operator who must prune rows older
than the retention period (docs/security.md) drops the trigger as the
database owner, deliberately and outside the application.

Installed by migration 0004 and, for databases made straight from the
models (tests, benchmarks), by :meth:`Database.create_schema`.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

REFUSAL = "access_log is append-only"

_POSTGRESQL = (
    f"""
    CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS access_log_no_change ON access_log",
    "CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log"
    " FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
    "DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log",
    "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
)

_SQLITE = (
    "DROP TRIGGER IF EXISTS access_log_no_update",
    f"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    "DROP TRIGGER IF EXISTS access_log_no_delete",
    f"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
)


def install_append_only(connection: Connection) -> None:
    """Create (or re-create) the triggers that keep ``access_log`` append-only."""
    statements = _POSTGRESQL if connection.dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        connection.exec_driver_sql(statement)


def remove_append_only(connection: Connection) -> None:
    """For the migration's downgrade only."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS access_log_no_change ON access_log")
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS access_log_append_only()")
    else:
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS access_log_no_update")
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS access_log_no_delete")
