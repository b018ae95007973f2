"""Bench data, seeded in bulk with SQL: users with realistic and with huge histories.

Sessions never overlap (the database refuses it), so each user's sessions follow one another:
`gap` apart, `length` long. Journals are made of common words, one in fifty mentioning a
"retrospective" (the word the search benchmark looks for). Change numbers, the stats rollup
and the search index are filled in as the application would have filled them.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection

from focus_sessions.rollup import rollup_rebuild
from users.models import User

WORDS = [
    "focus",
    "calm",
    "deep",
    "work",
    "morning",
    "coffee",
    "plan",
    "write",
    "read",
    "code",
    "review",
    "email",
    "break",
    "walk",
    "notes",
    "draft",
    "chapter",
    "design",
    "bug",
    "test",
    "deploy",
    "meeting",
    "call",
    "idea",
    "sketch",
    "quiet",
    "tired",
    "energy",
    "music",
    "library",
    "desk",
    "garden",
    "rain",
    "sun",
    "weekend",
    "project",
    "launch",
    "lesson",
    "practice",
    "habit",
    "goal",
    "progress",
]
SEARCH_WORD = "retrospective"
PASSWORD = "a-bench-passphrase-long-enough"


@dataclass(frozen=True)
class History:
    sessions: int
    journals: int
    gap: timedelta  # from one session's start to the next
    length: timedelta


def create_user(email: str, *, password: str = PASSWORD) -> User:
    return User.objects.create(email=email, password=make_password(password), timezone="Europe/Paris")


def seed_history(user: User, history: History, *, now: datetime) -> None:
    """`history.sessions` completed sessions ending before `now`, newest last, and journals
    spread over the same time, numbered for sync in creation order."""
    first = now - history.gap * history.sessions - timedelta(hours=1)
    length = int(history.length.total_seconds())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO focus_sessions_focussession
                (user_id, start_time, end_time, is_active, created_at, paused_at, paused_duration,
                 focus_seconds, planned_minutes, label, last_event_at, updated_at, version, client_id,
                 client_fingerprint, sync_seq)
            SELECT %(user)s, t, t + %(length)s * interval '1 second', false, t, NULL, interval '0',
                   %(length)s, 25, CASE WHEN i %% 3 = 0 THEN 'Deep work' ELSE '' END, t,
                   t + %(length)s * interval '1 second', 1, NULL, '', i + 1
            FROM generate_series(0, %(n)s - 1) AS i,
                 LATERAL (SELECT %(first)s::timestamptz + i * %(gap)s * interval '1 second' AS t) AS times
            """,
            {
                "user": user.pk,
                "n": history.sessions,
                "first": first,
                "gap": int(history.gap.total_seconds()),
                "length": length,
            },
        )
        journal_gap = (now - first).total_seconds() / max(history.journals, 1)
        cursor.execute(
            """
            INSERT INTO journals_journal
                (user_id, content, session_id, created_at, updated_at, version, client_id,
                 client_fingerprint, sync_seq)
            SELECT %(user)s,
                   array_to_string(ARRAY(
                       SELECT (%(words)s::text[])[1 + abs(hashtext(i::text || '-' || j::text)) %% %(nwords)s]
                       FROM generate_series(1, 40) AS j
                   ), ' ') || CASE WHEN i %% 50 = 0 THEN ' %(search)s' ELSE '' END,
                   NULL, t, t, 1, NULL, '', %(sessions)s + i + 1
            FROM generate_series(0, %(n)s - 1) AS i,
                 LATERAL (SELECT %(first)s::timestamptz + i * %(gap)s * interval '1 second' AS t) AS times
            """.replace("%(search)s", SEARCH_WORD),
            {
                "user": user.pk,
                "n": history.journals,
                "first": first,
                "gap": journal_gap,
                "words": WORDS,
                "nwords": len(WORDS),
                "sessions": history.sessions,
            },
        )
        cursor.execute(
            "UPDATE users_user SET sync_seq = %s WHERE id = %s",
            [history.sessions + history.journals, user.pk],
        )
    rollup_rebuild(user=User.objects.get(pk=user.pk))


def seed_tags(user: User, *, tags: int, week_goals: int, day_goals: int) -> None:
    """`tags` tags on the user's sessions (each session one tag, every third a second one), a
    daily goal on all focus, and week and day goals on the first tags; the rollup recounted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO focus_sessions_tag (user_id, name, name_fold, color, archived, created_at, "
            "updated_at, version, client_id, client_fingerprint, sync_seq) SELECT %(user)s, 'Tag ' || n, "
            "'tag ' || n, NULL, false, now(), now(), 1, NULL, '', 0 FROM generate_series(1, %(tags)s) AS n "
            "RETURNING id",
            {"user": user.pk, "tags": tags},
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "UPDATE focus_sessions_focussession AS s SET tag_ids = CASE WHEN numbered.i %% 3 = 0 "
            "THEN ARRAY[LEAST(a, b), GREATEST(a, b)] ELSE ARRAY[a] END FROM (SELECT id, "
            "row_number() OVER (ORDER BY id) AS i FROM focus_sessions_focussession WHERE user_id = %(user)s) "
            "AS numbered, LATERAL (SELECT (%(ids)s::bigint[])[1 + numbered.i %% %(tags)s] AS a, "
            "(%(ids)s::bigint[])[1 + (numbered.i + 7) %% %(tags)s] AS b) AS picked WHERE s.id = numbered.id",
            {"user": user.pk, "ids": ids, "tags": tags},
        )
        cursor.execute(
            "INSERT INTO focus_sessions_sessiontag (user_id, session_id, tag_id) SELECT user_id, id, "
            "unnest(tag_ids) FROM focus_sessions_focussession WHERE user_id = %s",
            [user.pk],
        )
        goals = [(None, "day", 120)] + [(ids[n], "week", 300) for n in range(week_goals)]
        goals += [(ids[n], "day", 30) for n in range(day_goals)]
        for tag, period, minutes in goals:
            cursor.execute(
                "INSERT INTO focus_sessions_goal (user_id, tag_id, period, target_minutes, created_at, "
                "updated_at, version, client_id, client_fingerprint, sync_seq) "
                "VALUES (%s, %s, %s, %s, now(), now(), 1, NULL, '', 0)",
                [user.pk, tag, period, minutes],
            )
        cursor.execute("UPDATE users_user SET daily_goal_minutes = 120 WHERE id = %s", [user.pk])
    rollup_rebuild(user=User.objects.get(pk=user.pk))


def seed(*, now: datetime | None = None) -> dict[str, User]:
    """Every user the benchmark needs; returns them by role."""
    now = now or datetime.now(UTC)
    call_command("load_quotes", "fixtures/quotes.json", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    users = {
        # Two years of a focused user: four sessions a day, a journal a day.
        "realistic": (
            History(sessions=4 * 730, journals=730, gap=timedelta(hours=6), length=timedelta(minutes=25))
        ),
        # The same two years, tagged: 30 tags, a daily goal and week and day goals on tags.
        "tagged": (
            History(sessions=4 * 730, journals=730, gap=timedelta(hours=6), length=timedelta(minutes=25))
        ),
        "small": History(sessions=100, journals=100, gap=timedelta(hours=6), length=timedelta(minutes=25)),
        # 100,000 of each: ten minutes every quarter of an hour, for almost three years.
        "large": History(
            sessions=100_000, journals=100_000, gap=timedelta(minutes=15), length=timedelta(minutes=10)
        ),
    }
    made = {}
    for role, history in users.items():
        made[role] = create_user(f"bench-{role}@example.com")
        seed_history(made[role], history, now=now)
    seed_tags(made["tagged"], tags=30, week_goals=5, day_goals=3)
    for n in range(8):
        made[f"pair{n}"] = create_user(f"bench-pair{n}@example.com")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, as a database in use has them
    return made
