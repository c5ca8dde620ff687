"""A case's history is append-only on PostgreSQL, like the audit trail (branches 0002 defines the
trigger function): an UPDATE or DELETE on case transitions is refused by the database itself."""

from django.db import migrations

CREATE = """
CREATE TRIGGER promotion_casetransition_append_only
    BEFORE UPDATE OR DELETE ON promotion_casetransition
    FOR EACH ROW EXECUTE FUNCTION leagueadmin_audit_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS promotion_casetransition_append_only ON promotion_casetransition;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("promotion", "0001_pipeline"),
        ("branches", "0002_audit_trail_append_only"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
