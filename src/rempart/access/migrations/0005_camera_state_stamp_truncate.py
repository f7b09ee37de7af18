"""The camera state stamp (migration 0003) changes on TRUNCATE too (PostgreSQL).

A TRUNCATE fires no DELETE trigger: emptying a watched table (zones, lanes, tokens...) that way
left the stamp as it was, and a camera path process could go on using the tokens and lanes it
kept. Nothing to do on SQLite, which has no TRUNCATE.
"""

import importlib

from django.db import migrations

from rempart.core import state_stamp

STAMP = importlib.import_module("rempart.access.migrations.0003_camera_state_stamp")


def forwards(apps, schema_editor):
    state_stamp.watch_truncate(
        schema_editor,
        function=STAMP.STAMP["function"],
        suffix=STAMP.STAMP["suffix"],
        watched=STAMP._watched(apps),
    )


def backwards(apps, schema_editor):
    state_stamp.unwatch_truncate(
        schema_editor, suffix=STAMP.STAMP["suffix"], watched=STAMP._watched(apps)
    )


class Migration(migrations.Migration):
    dependencies = [("access", "0004_passage_state_without_requested")]
    operations = [migrations.RunPython(forwards, backwards)]
