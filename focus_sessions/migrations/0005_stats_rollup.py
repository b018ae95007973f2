"""The stats rollup: completed sessions per user and local day, and the streaks (runs of
consecutive days), filled in from the sessions that exist."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    FocusSession = apps.get_model("focus_sessions", "FocusSession")
    FocusDay = apps.get_model("focus_sessions", "FocusDay")
    FocusStreak = apps.get_model("focus_sessions", "FocusStreak")
    User = apps.get_model("users", "User")
    quote = schema_editor.quote_name
    days, streaks = quote(FocusDay._meta.db_table), quote(FocusStreak._meta.db_table)
    sessions, users = quote(FocusSession._meta.db_table), quote(User._meta.db_table)
    schema_editor.execute(
        f"INSERT INTO {days} (user_id, date, sessions, focus_seconds) "
        f"SELECT s.user_id, (s.start_time AT TIME ZONE u.timezone)::date, COUNT(*), SUM(COALESCE(s.focus_seconds, 0)) "
        f"FROM {sessions} s JOIN {users} u ON u.id = s.user_id WHERE NOT s.is_active GROUP BY 1, 2"
    )
    # Consecutive days share date minus their rank: one group per run.
    schema_editor.execute(
        f"INSERT INTO {streaks} (user_id, first, last, days) "
        "SELECT user_id, MIN(date), MAX(date), COUNT(*) FROM ("
        f"  SELECT user_id, date, date - (ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY date))::int AS run "
        f"  FROM {days}"
        ") AS d GROUP BY user_id, run"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("focus_sessions", "0004_no_overlap"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FocusDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("sessions", models.PositiveIntegerField()),
                ("focus_seconds", models.BigIntegerField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "date"), name="focus_day_unique_per_user"),
                    models.CheckConstraint(
                        condition=models.Q(("focus_seconds__gte", 0), ("sessions__gt", 0)),
                        name="focus_day_counts",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="FocusStreak",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first", models.DateField()),
                ("last", models.DateField()),
                ("days", models.PositiveIntegerField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        models.F("user"),
                        models.OrderBy(models.F("days"), descending=True),
                        name="focus_streak_longest_idx",
                    ),
                    models.Index(
                        models.F("user"),
                        models.OrderBy(models.F("last"), descending=True),
                        name="focus_streak_latest_idx",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "first"), name="focus_streak_first_unique"),
                    models.CheckConstraint(
                        condition=models.Q(("last__gte", models.F("first"))), name="focus_streak_in_order"
                    ),
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
