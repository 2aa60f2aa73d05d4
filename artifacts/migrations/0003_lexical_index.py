"""The lexical index over chunk text, kept by the database on both profiles.

PostgreSQL: a `search_vector` tsvector column kept by a trigger (English configuration) with a
GIN index. SQLite: an FTS5 table (porter stemming) with external content, kept by triggers."""

from django.db import migrations

POSTGRES = [
    "ALTER TABLE artifacts_artifactchunk ADD COLUMN search_vector tsvector",
    """CREATE TRIGGER artifacts_chunk_search_vector
       BEFORE INSERT OR UPDATE OF text ON artifacts_artifactchunk
       FOR EACH ROW EXECUTE FUNCTION
       tsvector_update_trigger(search_vector, 'pg_catalog.english', text)""",
    "CREATE INDEX artifacts_chunk_search_idx ON artifacts_artifactchunk USING gin (search_vector)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS artifacts_chunk_search_idx",
    "DROP TRIGGER IF EXISTS artifacts_chunk_search_vector ON artifacts_artifactchunk",
    "ALTER TABLE artifacts_artifactchunk DROP COLUMN IF EXISTS search_vector",
]
SQLITE = [
    """CREATE VIRTUAL TABLE artifacts_chunk_fts USING fts5(
           text, content='artifacts_artifactchunk', content_rowid='id',
           tokenize='porter unicode61')""",
    """CREATE TRIGGER artifacts_chunk_fts_insert AFTER INSERT ON artifacts_artifactchunk BEGIN
           INSERT INTO artifacts_chunk_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER artifacts_chunk_fts_delete AFTER DELETE ON artifacts_artifactchunk BEGIN
           INSERT INTO artifacts_chunk_fts(artifacts_chunk_fts, rowid, text)
           VALUES ('delete', old.id, old.text);
       END""",
    """CREATE TRIGGER artifacts_chunk_fts_update AFTER UPDATE OF text ON artifacts_artifactchunk BEGIN
           INSERT INTO artifacts_chunk_fts(artifacts_chunk_fts, rowid, text)
           VALUES ('delete', old.id, old.text);
           INSERT INTO artifacts_chunk_fts(rowid, text) VALUES (new.id, new.text);
       END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS artifacts_chunk_fts_update",
    "DROP TRIGGER IF EXISTS artifacts_chunk_fts_delete",
    "DROP TRIGGER IF EXISTS artifacts_chunk_fts_insert",
    "DROP TABLE IF EXISTS artifacts_chunk_fts",
]


def _run(statements_by_vendor: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("artifacts", "0002_artifact_index_status_artifactchunk")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
