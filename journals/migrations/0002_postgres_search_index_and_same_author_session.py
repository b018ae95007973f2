"""Parts of the journal schema written in PostgreSQL's own terms:

- a GIN index on the content's English text-search vector, the exact expression
  journals.selectors.search_vector() queries with;
- a composite foreign key (session_id, user_id) -> focus session (id, user_id), so the database
  itself refuses a journal tied to somebody else's session, and refuses deleting a session
  that has journals.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "journal_content_search_idx"
FK_NAME = "journal_session_same_author"


def _index() -> GinIndex:
    return GinIndex(SearchVector("content", config="english"), name=INDEX_NAME)


def forwards(apps, schema_editor):
    journal = apps.get_model("journals", "Journal")
    session = apps.get_model("focus_sessions", "FocusSession")
    schema_editor.add_index(journal, _index())
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"ALTER TABLE {quote(journal._meta.db_table)} ADD CONSTRAINT {quote(FK_NAME)} "
        f"FOREIGN KEY (session_id, user_id) REFERENCES {quote(session._meta.db_table)} (id, user_id) "
        "DEFERRABLE INITIALLY DEFERRED"
    )


def backwards(apps, schema_editor):
    journal = apps.get_model("journals", "Journal")
    quote = schema_editor.quote_name
    schema_editor.execute(f"ALTER TABLE {quote(journal._meta.db_table)} DROP CONSTRAINT {quote(FK_NAME)}")
    schema_editor.remove_index(journal, _index())


class Migration(migrations.Migration):
    dependencies = [
        ("journals", "0001_initial"),
        ("focus_sessions", "0002_focussession_session_id_user_unique"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
