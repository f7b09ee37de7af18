"""Database-specific search structures (see rempart.practices.search).

SQLite: an FTS5 table of Snowball-stemmed tokens, rowid = practice id.
PostgreSQL: a tsvector column on the search documents with a GIN index.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS practices_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE practices_searchdocument "
            "ADD COLUMN IF NOT EXISTS vector tsvector NOT NULL DEFAULT ''::tsvector"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS practices_searchdocument_vector_gin "
            "ON practices_searchdocument USING gin (vector)"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS practices_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS practices_searchdocument_vector_gin")
        schema_editor.execute("ALTER TABLE practices_searchdocument DROP COLUMN IF EXISTS vector")


class Migration(migrations.Migration):
    dependencies = [("practices", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
