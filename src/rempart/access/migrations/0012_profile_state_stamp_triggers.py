"""The camera state stamp's triggers on the profile table, created again on SQLite.

Core migration 0004 added a column to ``core_profile``; on SQLite that rebuilds the table and
drops the triggers migration 0003 put on it, so a profile change (a user's cities or roles)
did not reach the camera path's cache until another watched table changed. PostgreSQL keeps
its triggers through ALTER TABLE. Written to run whether core 0004 ran before or after 0003.
"""

from django.db import migrations

from rempart.core import state_stamp


def retrigger(apps, schema_editor):
    table = apps.get_model("core", "Profile")._meta.db_table
    state_stamp.restore_sqlite_triggers(
        schema_editor, table="access_state_stamp", suffix="state_stamp", watched=(table, None)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0011_exercise_zone"),
        ("core", "0004_profile_must_change_password"),
    ]

    operations = [
        migrations.RunPython(retrigger, migrations.RunPython.noop),
    ]
