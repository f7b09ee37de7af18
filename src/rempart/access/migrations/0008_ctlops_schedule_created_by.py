"""Who scheduled a mode (named when a scheduled lockdown refuses an operator's action).

On SQLite, adding a column rebuilds the table, and dropping the old table drops the camera
state stamp's triggers on it (migration 0003): they are created again here, exactly as
:func:`rempart.core.state_stamp.create` writes them, so that a schedule change still reaches the
camera path at once. PostgreSQL keeps its triggers through ALTER TABLE.
"""

from django.db import migrations, models


def retrigger(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    table = apps.get_model("access", "ZoneSchedule")._meta.db_table
    quoted = schema_editor.quote_name(table)
    bump = "UPDATE access_state_stamp SET stamp = lower(hex(randomblob(16))) WHERE id = 1;"
    for event, name in (("INSERT", "insert"), ("UPDATE", "update"), ("DELETE", "delete")):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_state_stamp_{name}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_state_stamp_{name} AFTER {event} ON {quoted} BEGIN {bump} END"
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
