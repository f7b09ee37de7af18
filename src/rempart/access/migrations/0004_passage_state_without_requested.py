# A passage is created with its granting decision: the state "requested" was never set.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0003_camera_state_stamp"),
    ]

    operations = [
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
                ],
                default="granted",
                max_length=16,
            ),
        ),
    ]
