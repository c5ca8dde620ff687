"""Make the audit trail append-only in the database itself on PostgreSQL: an UPDATE or DELETE on
auditlog's table is refused by a trigger, whatever the application does. (On the embedded SQLite
default the application is the only writer and never updates or deletes entries.)"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION leagueadmin_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER auditlog_logentry_append_only
    BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION leagueadmin_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS auditlog_logentry_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS leagueadmin_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
