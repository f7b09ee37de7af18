"""The audit trail becomes a keyed chain, and PostgreSQL refuses TRUNCATE and a head moved back.

Entries already written keep their SHA-256 hashes: they get ``chain_version`` 1 and verify as
before. New entries are chained with HMAC-SHA256 under the audit key (``chain_version`` 2); the
first one chains to the last unkeyed hash, so from then on the unkeyed part cannot be rewritten
either without breaking a keyed hash (docs/operations.md, "The audit trail").

On PostgreSQL, triggers also refuse TRUNCATE of entries and of the head (a statement that fires
no DELETE trigger), and DELETE of the head or an UPDATE that does not move it forward. SQLite
keeps the application-level guards only (see 0002).
"""

from django.db import migrations, models

CREATE = """
CREATE TRIGGER core_auditentry_no_truncate BEFORE TRUNCATE ON core_auditentry
  FOR EACH STATEMENT EXECUTE FUNCTION rempart_audit_append_only();
CREATE OR REPLACE FUNCTION rempart_audit_head_forward_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.last_seq > OLD.last_seq THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit chain head only moves forward (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_audithead_forward_only BEFORE UPDATE OR DELETE ON core_audithead
  FOR EACH ROW EXECUTE FUNCTION rempart_audit_head_forward_only();
CREATE TRIGGER core_audithead_no_truncate BEFORE TRUNCATE ON core_audithead
  FOR EACH STATEMENT EXECUTE FUNCTION rempart_audit_head_forward_only();
"""

DROP = """
DROP TRIGGER IF EXISTS core_audithead_no_truncate ON core_audithead;
DROP TRIGGER IF EXISTS core_audithead_forward_only ON core_audithead;
DROP FUNCTION IF EXISTS rempart_audit_head_forward_only();
DROP TRIGGER IF EXISTS core_auditentry_no_truncate ON core_auditentry;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)  # "%%" reaches PL/pgSQL as "%"


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]
    operations = [
        # existing rows: the unkeyed chain (1); the model's default for new rows is the keyed one
        migrations.AddField(
            model_name="auditentry",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=2, editable=False),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="organisation_id",
            field=models.BigIntegerField(db_index=True, editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
