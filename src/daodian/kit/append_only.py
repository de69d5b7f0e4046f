"""Database-enforced append-only tables: triggers that refuse UPDATE and DELETE on both backends."""

from alembic import op


def protect(table: str) -> None:
    """Called from a migration after creating `table`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION refuse_change_{table}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_change_{table}()
        """)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
            """)


def unprotect(table: str) -> None:
    """Called from a migration's downgrade before dropping `table`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS refuse_change_{table}()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
