"""Database-level guard: rows of crisis_auditevent can be inserted, never updated or deleted."""

from django.db import migrations

POSTGRES_GUARD = """
CREATE OR REPLACE FUNCTION crisis_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER crisis_auditevent_append_only
    BEFORE UPDATE OR DELETE ON crisis_auditevent
    FOR EACH ROW EXECUTE FUNCTION crisis_auditevent_refuse_change();
"""
POSTGRES_UNGUARD = """
DROP TRIGGER IF EXISTS crisis_auditevent_append_only ON crisis_auditevent;
DROP FUNCTION IF EXISTS crisis_auditevent_refuse_change();
"""
SQLITE_GUARD = [
    """CREATE TRIGGER crisis_auditevent_no_update BEFORE UPDATE ON crisis_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER crisis_auditevent_no_delete BEFORE DELETE ON crisis_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;""",
]
SQLITE_UNGUARD = [
    "DROP TRIGGER IF EXISTS crisis_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS crisis_auditevent_no_delete;",
]


def add_guard(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_GUARD], "sqlite": SQLITE_GUARD}
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def remove_guard(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_UNGUARD], "sqlite": SQLITE_UNGUARD}
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("crisis", "0001_initial")]
    operations = [migrations.RunPython(add_guard, remove_guard)]
