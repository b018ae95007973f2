"""The stats rollup stays equal to counting the sessions afresh, whatever the writes."""

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from focus_sessions import services
from focus_sessions.exceptions import NoActiveSession, SessionOverlap
from focus_sessions.models import FocusDay, FocusSession, FocusStreak
from focusflow.testing import T0, at
from users import services as users
from users.models import User
from users.tests.factories import UserFactory


def counted_afresh(user: User) -> tuple[dict, list]:
    """Days and streaks from the sessions themselves, the slow way."""
    zone = ZoneInfo(User.objects.get(pk=user.pk).timezone)
    days: dict = {}
    for start, focus in FocusSession.objects.filter(user=user, is_active=False).values_list(
        "start_time", "focus_seconds"
    ):
        n, seconds = days.get(start.astimezone(zone).date(), (0, 0))
        days[start.astimezone(zone).date()] = (n + 1, seconds + focus)
    runs: list = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return days, [(first, last, (last - first).days + 1) for first, last in runs]


def rollup_of(user: User) -> tuple[dict, list]:
    # By column: the migration test reads it while the table is still as 0005 made it.
    days = {
        date: (sessions, seconds)
        for date, sessions, seconds in FocusDay.objects.filter(user=user).values_list(
            "date", "sessions", "focus_seconds"
        )
    }
    streaks = sorted(FocusStreak.objects.filter(user=user).values_list("first", "last", "days"))
    return days, streaks


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(4))
def test_random_writes_keep_the_rollup_equal_to_a_fresh_count(seed):
    rng = random.Random(seed)
    user = UserFactory(timezone="Europe/Paris")
    with at(0):
        for step in range(120):
            choice = rng.random()
            mine = list(FocusSession.objects.filter(user=user, is_active=False).values_list("pk", flat=True))
            try:
                if choice < 0.4 or not mine:
                    start = T0 - timedelta(hours=rng.randint(1, 23 * 1), days=rng.randint(0, 12))
                    services.focus_session_log(
                        user=user, start_time=start, end_time=start + timedelta(minutes=rng.randint(1, 90))
                    )
                elif choice < 0.6:
                    session = FocusSession.objects.get(pk=rng.choice(mine))
                    shift = timedelta(hours=rng.randint(-30, 30))
                    services.focus_session_update(
                        user=user,
                        session_id=session.pk,
                        start_time=session.start_time + shift,
                        end_time=session.end_time + shift,
                    )
                elif choice < 0.75:
                    services.focus_session_delete(user=user, session_id=rng.choice(mine))
                elif choice < 0.85:
                    services.focus_session_start(user=user, at=T0 - timedelta(minutes=rng.randint(0, 600)))
                    services.focus_session_stop(user=user)
                elif choice < 0.92:
                    users.user_update(
                        user=user, timezone=rng.choice(["Europe/Paris", "Pacific/Kiritimati", "America/Adak"])
                    )
                else:
                    services.focus_session_stop(user=user)
            except (SessionOverlap, NoActiveSession):
                continue
            except Exception as exc:  # a 400 for an edit out of bounds is fine; anything else is not
                if getattr(exc, "status_code", None) != 400:
                    raise
            assert rollup_of(user) == counted_afresh(user), step


@pytest.mark.django_db
def test_stats_show_the_window_and_streaks_from_the_rollup(alice_client, alice):
    with at(0):
        for days_ago in (0, 1, 2, 5, 6):
            start = T0 - timedelta(days=days_ago, hours=1)
            services.focus_session_log(user=alice, start_time=start, end_time=start + timedelta(minutes=30))
        stats = alice_client.get("/api/sessions/stats/", {"days": 3}).json()
    assert [(d["date"], d["sessions"], d["focus_seconds"]) for d in stats["days"]] == [
        ("2026-11-18", 1, 1800),
        ("2026-11-19", 1, 1800),
        ("2026-11-20", 1, 1800),
    ]
    assert (stats["current_streak_days"], stats["longest_streak_days"], stats["total_focus_seconds"]) == (
        3,
        3,
        5400,
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_sessions_that_exist():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    before, after = [("focus_sessions", "0004_no_overlap")], [("focus_sessions", "0005_stats_rollup")]
    executor.migrate(before)
    others = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] != "focus_sessions"]
    apps = executor.loader.project_state([*others, *before]).apps
    Session = apps.get_model("focus_sessions", "FocusSession")
    Account = apps.get_model("users", "User")
    user = Account.objects.create(email="old@example.com", timezone="Asia/Tokyo")
    for days_ago, hours in [(0, 1), (1, 1), (1, 3), (4, 1)]:
        start = T0 - timedelta(days=days_ago, hours=hours)
        Session.objects.create(
            user=user,
            start_time=start,
            end_time=start + timedelta(minutes=20),
            is_active=False,
            focus_seconds=1200,
        )
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        migrated = User.objects.get(pk=user.pk)
        assert rollup_of(migrated) == counted_afresh(migrated)
        assert len(rollup_of(migrated)[1]) == 2  # two days in a row, then one alone
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
