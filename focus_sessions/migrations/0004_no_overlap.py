"""A user's sessions never overlap, held by PostgreSQL itself; and the new fields of existing
sessions filled in.

The exclusion constraint compares each user's sessions' time ranges, [start, end), a running
session's range extending to infinity; `btree_gist` lets the same GiST index compare user ids
for equality.

Sessions recorded before could overlap only by the clock differences of app servers (a start
on one a few milliseconds before a stop on another); those are moved to begin where the
earlier session ended. Any larger overlap stops the migration with the sessions named.
"""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Coalesce

CONSTRAINT = "session_no_overlap"
SKEW_SECONDS = 5


def backfill(apps, schema_editor):
    FocusSession = apps.get_model("focus_sessions", "FocusSession")
    FocusSession.objects.update(
        last_event_at=Coalesce(F("paused_at"), F("start_time")),
        updated_at=Coalesce(F("end_time"), F("paused_at"), F("start_time")),
    )


def add_constraint(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("focus_sessions", "FocusSession")._meta.db_table)
    earlier_end = f"""
        SELECT id, MAX(end_time) OVER (
            PARTITION BY user_id ORDER BY start_time, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier_end FROM {table}
    """
    schema_editor.execute(
        f"""
        UPDATE {table} AS s SET start_time = o.earlier_end, last_event_at = GREATEST(s.last_event_at, o.earlier_end)
        FROM ({earlier_end}) AS o
        WHERE s.id = o.id AND o.earlier_end > s.start_time
          AND o.earlier_end - s.start_time <= interval '{SKEW_SECONDS} seconds'
          AND (s.end_time IS NULL OR s.end_time >= o.earlier_end)
          AND (s.paused_at IS NULL OR s.paused_at >= o.earlier_end)
        """
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id FROM {table} AS s JOIN ({earlier_end}) AS o ON s.id = o.id "
            "WHERE o.earlier_end > s.start_time ORDER BY s.id LIMIT 50"
        )
        overlapping = [row[0] for row in cursor.fetchall()]
    if overlapping:
        raise RuntimeError(
            "These focus sessions overlap an earlier session of the same user by more than "
            f"{SKEW_SECONDS} seconds; correct or delete them, then migrate again: {overlapping}"
        )
    # The updates above queued the deferred foreign-key checks of this table; PostgreSQL alters
    # a table only once they have run.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {schema_editor.quote_name(CONSTRAINT)} EXCLUDE USING gist "
        "(user_id WITH =, tstzrange(start_time, COALESCE(end_time, 'infinity'::timestamptz), '[)') WITH &&)"
    )


def drop_constraint(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("focus_sessions", "FocusSession")._meta.db_table)
    schema_editor.execute(
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {schema_editor.quote_name(CONSTRAINT)}"
    )


class Migration(migrations.Migration):
    dependencies = [("focus_sessions", "0003_offline_sync_fields")]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(add_constraint, drop_constraint),
    ]
