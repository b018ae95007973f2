"""Tags and goals, the parts Django cannot declare:

- composite foreign keys (tag_id, user_id) -> tag (id, user_id) from session tags, goals and
  the per-tag rollup, and (session_id, user_id) -> session (id, user_id) from session tags, so
  the database itself refuses a tag of somebody else on a session or a goal;
- column defaults for writers that do not go through the ORM (a session without tags, a day
  whose sessions are all untagged);
- the rollup's untagged counts for the sessions that exist (none has a tag yet), and the goal
  that every profile's `daily_goal_minutes` is (tag null, period day), each numbered as a
  change for the devices' sync.
"""

from django.db import migrations

# (table, constraint, column, target, on delete): session tags and the per-tag rollup go with
# their session or tag; a goal keeps its tag from being deleted until the goal is dealt with.
FOREIGN_KEYS = [
    ("sessiontag", "session_tag_tag_same_user", "tag_id", "tag", "CASCADE"),
    ("sessiontag", "session_tag_session_same_user", "session_id", "focussession", "CASCADE"),
    ("goal", "goal_tag_same_user", "tag_id", "tag", "NO ACTION"),
    ("focusdaytag", "focus_day_tag_tag_same_user", "tag_id", "tag", "CASCADE"),
]


def forwards(apps, schema_editor):
    quote = schema_editor.quote_name

    def table(name: str) -> str:
        return quote(apps.get_model("focus_sessions", name)._meta.db_table)

    for model, name, column, target, on_delete in FOREIGN_KEYS:
        schema_editor.execute(
            f"ALTER TABLE {table(model)} ADD CONSTRAINT {quote(name)} FOREIGN KEY ({column}, user_id) "
            f"REFERENCES {table(target)} (id, user_id) ON DELETE {on_delete} DEFERRABLE INITIALLY DEFERRED"
        )
    schema_editor.execute(f"ALTER TABLE {table('focussession')} ALTER COLUMN tag_ids SET DEFAULT '{{}}'")
    days = table("focusday")
    for column in ("untagged_sessions", "untagged_focus_seconds"):
        schema_editor.execute(f"ALTER TABLE {days} ALTER COLUMN {column} SET DEFAULT 0")
    schema_editor.execute(
        f"UPDATE {days} SET untagged_sessions = sessions, untagged_focus_seconds = focus_seconds"
    )
    users = quote(apps.get_model("users", "User")._meta.db_table)
    schema_editor.execute(
        f"WITH numbered AS (UPDATE {users} SET sync_seq = sync_seq + 1 "
        "WHERE daily_goal_minutes IS NOT NULL RETURNING id, sync_seq, daily_goal_minutes) "
        f"INSERT INTO {table('goal')} (user_id, tag_id, period, target_minutes, created_at, updated_at, "
        "version, client_id, client_fingerprint, sync_seq) "
        "SELECT id, NULL, 'day', daily_goal_minutes, now(), now(), 1, NULL, '', sync_seq FROM numbered"
    )


def backwards(apps, schema_editor):
    quote = schema_editor.quote_name
    for model, name, *_ in FOREIGN_KEYS:
        table = quote(apps.get_model("focus_sessions", model)._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("focus_sessions", "0007_tags_and_goals"),
        ("users", "0006_account_recovery"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
