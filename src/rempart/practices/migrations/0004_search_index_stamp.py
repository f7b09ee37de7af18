"""A stamp that changes whenever the search index's documents change.

``practices_index_stamp`` holds one row; database triggers give it a new random value on every
INSERT, UPDATE or DELETE of ``practices_searchdocument`` (and on PostgreSQL on TRUNCATE). The
facet counts of browsing without a query are kept per process while the stamp is unchanged
(rempart.practices.search.BrowseCounts), so a change committed by any writer -- the indexer, a
cascade delete, raw SQL, another process -- is counted at the next browse. Facet rows
(``practices_practicefacet``) are written only with their practice's search document, in the
same transaction, so the document's trigger covers them. A random value (not a counter) cannot
repeat after a rolled-back change (rempart.core.state_stamp).
"""

from django.db import migrations

from rempart.core import state_stamp

STAMP = {
    "table": "practices_index_stamp",
    "function": "rempart_practices_index_stamp",
    "suffix": "index_stamp",
    "watched": [("practices_searchdocument", None)],
}


def forwards(apps, schema_editor):
    state_stamp.create(schema_editor, **STAMP)
    state_stamp.watch_truncate(
        schema_editor, function=STAMP["function"], suffix=STAMP["suffix"], watched=STAMP["watched"]
    )


def backwards(apps, schema_editor):
    state_stamp.unwatch_truncate(schema_editor, suffix=STAMP["suffix"], watched=STAMP["watched"])
    state_stamp.drop(schema_editor, **STAMP)


class Migration(migrations.Migration):
    dependencies = [("practices", "0003_facets_unaccent_revisions")]
    operations = [migrations.RunPython(forwards, backwards)]
