"""Exercise zones (``Zone.is_exercise``): simulated lanes and barriers that exercise play uses.

On SQLite, adding the column rebuilds the zone table, and dropping the old table drops the
camera state stamp's triggers on it (migration 0003): they are created again here, as in
migration 0008, so that a mode change still reaches the camera path at once. PostgreSQL keeps
its triggers through ALTER TABLE.
"""

from django.db import migrations, models


def retrigger(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    table = apps.get_model("access", "Zone")._meta.db_table
    quoted = schema_editor.quote_name(table)
    bump = "UPDATE access_state_stamp SET stamp = lower(hex(randomblob(16))) WHERE id = 1;"
    for event, name in (("INSERT", "insert"), ("UPDATE", "update"), ("DELETE", "delete")):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_state_stamp_{name}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_state_stamp_{name} AFTER {event} ON {quoted} BEGIN {bump} END"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0010_ctlops_alarm_escalation_inputs"),
    ]

    operations = [
        migrations.AddField(
            model_name="zone",
            name="is_exercise",
            field=models.BooleanField(default=False, verbose_name="exercise zone"),
        ),
        migrations.RunPython(retrigger, migrations.RunPython.noop),
    ]
