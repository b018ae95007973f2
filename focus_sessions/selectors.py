"""Reads: history with filters, and stats on the user's own calendar."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet

from focus_sessions.models import FocusDay, FocusSession, FocusStreak
from focusflow.core.dates import local_range_filter, local_today
from focusflow.db.rows import rows_of
from users.models import User


def focus_session_history(
    *, user: User, first: date | None = None, last: date | None = None, is_active: bool | None = None
) -> QuerySet[FocusSession]:
    """The user's sessions whose start falls on local days first..last (inclusive)."""
    sessions = FocusSession.objects.filter(
        user=user,
        **local_range_filter("start_time", zone=ZoneInfo(user.timezone), first=first, last=last),
    )
    if is_active is not None:
        sessions = sessions.filter(is_active=is_active)
    return sessions


@dataclass(frozen=True)
class DayStats:
    date: date
    sessions: int
    focus_seconds: int
    goal_met: bool


@dataclass(frozen=True)
class FocusStats:
    timezone: str
    days: list[DayStats]
    total_focus_seconds: int
    current_streak_days: int
    longest_streak_days: int


@cache
def _streaks_sql() -> str:
    table = connection.ops.quote_name(FocusStreak._meta.db_table)
    latest = f"FROM {table} WHERE user_id = %(user)s ORDER BY last DESC LIMIT 1"
    return (
        f"SELECT (SELECT last {latest}), (SELECT days {latest}), "
        f"(SELECT days FROM {table} WHERE user_id = %(user)s ORDER BY days DESC LIMIT 1)"
    )


def _streaks(*, user: User) -> tuple[date | None, int | None, int | None]:
    """The latest streak's last day and length, and the longest streak's length: one statement,
    each part by index (`focus_streak_latest_idx`, `focus_streak_longest_idx`). Plain SQL, as
    the other hot reads (focusflow.db.rows): the ORM's subqueries cost more to build than to run."""
    with connection.cursor() as cursor:
        cursor.execute(_streaks_sql(), {"user": user.pk})
        return cursor.fetchone()


def focus_session_stats(*, user: User, days: int, now: datetime) -> FocusStats:
    """Completed sessions per local day for the last `days` days (today included), with
    totals and streaks. A session counts on the local day it started, so one that runs past
    midnight adds all its focus time to the day it began. Read from the rollup kept by
    `focus_sessions.rollup`: one query for the window's days and one for the longest and the
    latest streak, by index, whatever the length of the history.
    The current streak ends today, or yesterday while today has no completed session yet (it
    is alive until midnight)."""
    zone = ZoneInfo(user.timezone)
    today = local_today(zone, now=now)
    first = today - timedelta(days=days - 1)
    per_day = {day.date: day for day in rows_of(FocusDay, user=user.pk, date__gte=first, date__lte=today)}
    latest_last, latest_days, longest = _streaks(user=user)
    goal_seconds = user.daily_goal_minutes * 60 if user.daily_goal_minutes else None
    window = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        counted = per_day.get(day)
        sessions, focus = (counted.sessions, counted.focus_seconds) if counted else (0, 0)
        met = goal_seconds is not None and focus >= goal_seconds
        window.append(DayStats(date=day, sessions=sessions, focus_seconds=focus, goal_met=met))
    alive = latest_last is not None and latest_last >= today - timedelta(days=1)
    return FocusStats(
        timezone=user.timezone,
        days=window,
        total_focus_seconds=sum(day.focus_seconds for day in window),
        current_streak_days=(latest_days or 0) if alive else 0,
        longest_streak_days=longest or 0,
    )


def focus_sessions_export_rows(*, user: User) -> QuerySet[FocusSession]:
    """The user's sessions for the data export, oldest first."""
    return FocusSession.objects.filter(user=user).order_by("start_time", "id")
