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

TABLE = "access_state_stamp"


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
    execute = schema_editor.execute
    quote = schema_editor.quote_name
    execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, stamp varchar(64) NOT NULL)")
    execute(f"INSERT INTO {TABLE} (id, stamp) VALUES (1, 'initial')")
    if schema_editor.connection.vendor == "postgresql":
        execute(
            "CREATE OR REPLACE FUNCTION rempart_access_state_stamp() RETURNS trigger AS $$ "
            f"BEGIN UPDATE {TABLE} SET stamp = gen_random_uuid()::text WHERE id = 1; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table, columns in _watched(apps):
            update = f"UPDATE OF {', '.join(quote(c) for c in columns)}" if columns else "UPDATE"
            execute(
                f"CREATE TRIGGER {table}_state_stamp AFTER INSERT OR {update} OR DELETE "
                f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION rempart_access_state_stamp()"
            )
    else:  # SQLite: one trigger per event, per row
        bump = f"UPDATE {TABLE} SET stamp = lower(hex(randomblob(16))) WHERE id = 1;"
        for table, columns in _watched(apps):
            update = f"UPDATE OF {', '.join(quote(c) for c in columns)}" if columns else "UPDATE"
            for event, name in (("INSERT", "insert"), (update, "update"), ("DELETE", "delete")):
                execute(
                    f"CREATE TRIGGER {table}_state_stamp_{name} AFTER {event} ON {quote(table)} "
                    f"BEGIN {bump} END"
                )


def backwards(apps, schema_editor):
    execute = schema_editor.execute
    for table, _columns in _watched(apps):
        if schema_editor.connection.vendor == "postgresql":
            execute(
                f"DROP TRIGGER IF EXISTS {table}_state_stamp ON {schema_editor.quote_name(table)}"
            )
        else:
            for name in ("insert", "update", "delete"):
                execute(f"DROP TRIGGER IF EXISTS {table}_state_stamp_{name}")
    if schema_editor.connection.vendor == "postgresql":
        execute("DROP FUNCTION IF EXISTS rempart_access_state_stamp()")
    execute(f"DROP TABLE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_decision_answers_referral"),
        ("core", "0002_audit_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
