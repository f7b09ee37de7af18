"""A stamp that changes whenever the search index's documents change.

``practices_index_stamp`` holds one row; database triggers give it a new random value on every
INSERT, UPDATE or DELETE of ``practices_searchdocument`` (and on PostgreSQL on TRUNCATE). The
facet counts of the whole published catalogue (browsing without a query or filter) are kept per
process while the stamp is unchanged (rempart.practices.search), so a change committed by any
writer -- the indexer, a cascade delete, raw SQL, another process -- is counted at the next
browse. Facet rows (``practices_practicefacet``) are written only with their practice's search
document, in the same transaction, so the document's trigger covers them. A random value (not
a counter) cannot repeat after a rolled-back change. The table has no model: Django's test
flush leaves it.
"""

from django.db import migrations

TABLE = "practices_index_stamp"
WATCHED = "practices_searchdocument"


def forwards(apps, schema_editor):
    execute = schema_editor.execute
    execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, stamp varchar(64) NOT NULL)")
    execute(f"INSERT INTO {TABLE} (id, stamp) VALUES (1, 'initial')")
    if schema_editor.connection.vendor == "postgresql":
        execute(
            "CREATE OR REPLACE FUNCTION rempart_practices_index_stamp() RETURNS trigger AS $$ "
            f"BEGIN UPDATE {TABLE} SET stamp = gen_random_uuid()::text WHERE id = 1; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        execute(
            f"CREATE TRIGGER {WATCHED}_index_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {WATCHED} FOR EACH STATEMENT EXECUTE FUNCTION rempart_practices_index_stamp()"
        )
    else:  # SQLite: one trigger per event, per row
        bump = f"UPDATE {TABLE} SET stamp = lower(hex(randomblob(16))) WHERE id = 1;"
        for event, name in (("INSERT", "insert"), ("UPDATE", "update"), ("DELETE", "delete")):
            execute(
                f"CREATE TRIGGER {WATCHED}_index_stamp_{name} AFTER {event} ON {WATCHED} "
                f"BEGIN {bump} END"
            )


def backwards(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute(f"DROP TRIGGER IF EXISTS {WATCHED}_index_stamp ON {WATCHED}")
        execute("DROP FUNCTION IF EXISTS rempart_practices_index_stamp()")
    else:
        for name in ("insert", "update", "delete"):
            execute(f"DROP TRIGGER IF EXISTS {WATCHED}_index_stamp_{name}")
    execute(f"DROP TABLE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("practices", "0003_facets_unaccent_revisions")]
    operations = [migrations.RunPython(forwards, backwards)]
