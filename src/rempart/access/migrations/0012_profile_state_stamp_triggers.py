"""The camera state stamp's triggers on the profile table, created again on SQLite.

Core migration 0004 added a column to ``core_profile``; on SQLite that rebuilds the table and
drops the triggers migration 0003 put on it, so a profile change (a user's cities or roles)
did not reach the camera path's cache until another watched table changed. PostgreSQL keeps
its triggers through ALTER TABLE. Written to run whether core 0004 ran before or after 0003.
"""

from django.db import migrations


def retrigger(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    table = apps.get_model("core", "Profile")._meta.db_table
    quoted = schema_editor.quote_name(table)
    bump = "UPDATE access_state_stamp SET stamp = lower(hex(randomblob(16))) WHERE id = 1;"
    for event, name in (("INSERT", "insert"), ("UPDATE", "update"), ("DELETE", "delete")):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_state_stamp_{name}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_state_stamp_{name} AFTER {event} ON {quoted} BEGIN {bump} END"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0011_exercise_zone"),
        ("core", "0004_profile_must_change_password"),
    ]

    operations = [
        migrations.RunPython(retrigger, migrations.RunPython.noop),
    ]
