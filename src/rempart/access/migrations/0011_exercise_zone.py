"""Exercise zones (``Zone.is_exercise``): simulated lanes and barriers that exercise play uses.

On SQLite, adding the column rebuilds the zone table, and dropping the old table drops the
camera state stamp's triggers on it (migration 0003): they are created again here, as in
migration 0008, so that a mode change still reaches the camera path at once. PostgreSQL keeps
its triggers through ALTER TABLE.
"""

from django.db import migrations, models

from rempart.core import state_stamp


def retrigger(apps, schema_editor):
    table = apps.get_model("access", "Zone")._meta.db_table
    state_stamp.restore_sqlite_triggers(
        schema_editor, table="access_state_stamp", suffix="state_stamp", watched=(table, None)
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
