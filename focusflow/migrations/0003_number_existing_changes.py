"""Give the sessions and journals that exist already their change numbers (`focusflow.sync.feed`).

Per user, in order of creation: sessions 1..n, then journals n+1..n+m; the user's counter is
set to the last number. A first sync then lists them all, each with a number of its own.
"""

from django.db import migrations


def number(apps, schema_editor):
    quote = schema_editor.quote_name
    sessions = quote(apps.get_model("focus_sessions", "FocusSession")._meta.db_table)
    journals = quote(apps.get_model("journals", "Journal")._meta.db_table)
    users = quote(apps.get_model("users", "User")._meta.db_table)
    schema_editor.execute(
        f"""
        UPDATE {sessions} AS s SET sync_seq = n.seq FROM (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY created_at, id) AS seq FROM {sessions}
        ) AS n WHERE s.id = n.id
        """
    )
    schema_editor.execute(
        f"""
        UPDATE {journals} AS j SET sync_seq = n.seq FROM (
            SELECT j2.id, ROW_NUMBER() OVER (PARTITION BY j2.user_id ORDER BY j2.created_at, j2.id)
                + (SELECT COUNT(*) FROM {sessions} AS s WHERE s.user_id = j2.user_id) AS seq
            FROM {journals} AS j2
        ) AS n WHERE j.id = n.id
        """
    )
    schema_editor.execute(
        f"""
        UPDATE {users} SET sync_seq =
            (SELECT COUNT(*) FROM {sessions} AS s WHERE s.user_id = {users}.id)
            + (SELECT COUNT(*) FROM {journals} AS j WHERE j.user_id = {users}.id)
        """
    )


class Migration(migrations.Migration):
    dependencies = [
        ("focusflow", "0002_tombstone"),
        ("focus_sessions", "0004_no_overlap"),
        ("journals", "0003_offline_sync_fields"),
        ("users", "0003_sync_counters"),
    ]

    operations = [migrations.RunPython(number, migrations.RunPython.noop)]
