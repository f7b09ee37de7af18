"""Who scheduled a mode (named when a scheduled lockdown refuses an operator's action).

On SQLite, adding a column rebuilds the table, and dropping the old table drops the camera
state stamp's triggers on it (migration 0003): they are created again here, exactly as
:func:`rempart.core.state_stamp.create` writes them, so that a schedule change still reaches the
camera path at once. PostgreSQL keeps its triggers through ALTER TABLE.
"""

from django.db import migrations, models

from rempart.core import state_stamp


def retrigger(apps, schema_editor):
    table = apps.get_model("access", "ZoneSchedule")._meta.db_table
    state_stamp.restore_sqlite_triggers(
        schema_editor, table="access_state_stamp", suffix="state_stamp", watched=(table, None)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0007_decision_messages_without_holders"),
    ]

    operations = [
        migrations.AddField(
            model_name="zoneschedule",
            name="created_by",
            field=models.CharField(blank=True, max_length=150, verbose_name="scheduled by"),
        ),
        migrations.RunPython(retrigger, migrations.RunPython.noop),
    ]
