"""Full-text search on a stored, generated tsvector.

Searching used to parse each journal's text again (`to_tsvector(content)`) for every row the
query looked at: a user with many journals paid for it on every search. The text is now parsed
once, when it is written, into `search_vector`, and indexed together with the user (GIN, with
btree_gin for the user id), so PostgreSQL can either walk the user's journals newest first
checking the stored vector, or take the user's matches from the index, whichever is cheaper.
"""

from django.db import migrations

OLD_INDEX = "journal_content_search_idx"
NEW_INDEX = "journal_search_idx"


def forwards(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("journals", "Journal")._meta.db_table)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED"
    )
    schema_editor.execute(f"CREATE INDEX {NEW_INDEX} ON {table} USING gin (user_id, search_vector)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")


def backwards(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("journals", "Journal")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX {OLD_INDEX} ON {table} USING gin (to_tsvector('english'::regconfig, content))"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {NEW_INDEX}")
    schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")


class Migration(migrations.Migration):
    dependencies = [("journals", "0003_offline_sync_fields")]

    operations = [migrations.RunPython(forwards, backwards)]
