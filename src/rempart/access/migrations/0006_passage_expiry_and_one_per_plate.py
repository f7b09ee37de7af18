# A grant has an age limit (Passage.expires_at: never executed after it, state "expired"), and
# one lane holds at most one unfinished passage per plate (Passage.plate with a partial unique
# constraint): rempart.access.grants.

import datetime as dt

from django.db import migrations, models
from django.db.models import F

# The default limit (rempart.access.grants.DEFAULT_GRANT_MAX_AGE_S) for the passages stored
# before it existed: a row still "granted" from long ago expires at the daemon's next tick.
DEFAULT_GRANT_MAX_AGE = dt.timedelta(seconds=30)


def fill_expires_at(apps, schema_editor):
    Passage = apps.get_model("access", "Passage")
    Passage.objects.update(expires_at=F("created_at") + DEFAULT_GRANT_MAX_AGE)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0005_camera_state_stamp_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="passage",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill_expires_at, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="passage",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name="passage",
            name="plate",
            field=models.CharField(blank=True, max_length=40, null=True),
        ),
        migrations.AlterField(
            model_name="passage",
            name="state",
            field=models.CharField(
                choices=[
                    ("granted", "granted"),
                    ("lowering", "lowering"),
                    ("open", "open"),
                    ("vehicle_passing", "vehicle passing"),
                    ("closing", "closing"),
                    ("closed", "closed"),
                    ("failed", "failed"),
                    ("expired", "expired (not executed in time)"),
                ],
                default="granted",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="passage",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state__in", ("granted", "lowering", "open", "vehicle_passing"))),
                fields=("lane", "plate"),
                name="access_passage_one_per_plate",
            ),
        ),
    ]
