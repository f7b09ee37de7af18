"""A stamp that changes whenever what a camera decision reads (other than permits) changes.

``access_state_stamp`` holds one row; database triggers give it a new random value on every
INSERT, UPDATE or DELETE of API tokens (but their ``last_used_at``), users (their name,
activity, superuser flag), group memberships and names, profiles, organisations' cities, zones,
lanes and zone schedules. The camera path (rempart.access.camera) keeps tokens and lanes between
batches only while the stamp is unchanged, so a change committed by any writer -- the ORM, the
admin, raw SQL, another process -- is seen by the next read. A random value (not a counter)
cannot repeat after a rolled-back change. The table has no model: Django's test flush leaves it.
"""

from django.conf import settings
from django.db import migrations

from rempart.core import state_stamp

STAMP = {
    "table": "access_state_stamp",
    "function": "rempart_access_state_stamp",
    "suffix": "state_stamp",
}


def _watched(apps):
    """(table, columns whose UPDATE counts, or None for every column)."""
    user = apps.get_model(settings.AUTH_USER_MODEL)
    token = apps.get_model("core", "ApiToken")
    token_columns = [f.column for f in token._meta.concrete_fields if f.name != "last_used_at"]
    return [
        (token._meta.db_table, token_columns),
        (user._meta.db_table, ["username", "is_active", "is_superuser"]),
        (user._meta.get_field("groups").remote_field.through._meta.db_table, None),
        (apps.get_model("auth", "Group")._meta.db_table, None),
        (apps.get_model("core", "Profile")._meta.db_table, None),
        (
            apps.get_model("core", "Organisation")
            ._meta.get_field("cities")
            .remote_field.through._meta.db_table,
            None,
        ),
        (apps.get_model("access", "Zone")._meta.db_table, None),
        (apps.get_model("access", "Lane")._meta.db_table, None),
        (apps.get_model("access", "ZoneSchedule")._meta.db_table, None),
    ]


def forwards(apps, schema_editor):
    state_stamp.create(schema_editor, watched=_watched(apps), **STAMP)


def backwards(apps, schema_editor):
    state_stamp.drop(schema_editor, watched=_watched(apps), **STAMP)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_decision_answers_referral"),
        ("core", "0002_audit_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
