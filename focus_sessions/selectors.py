"""Reads: history with filters, and stats on the user's own calendar."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from focus_sessions.models import FocusSession
from focusflow.dates import local_range_filter, local_today


def focus_session_history(
    *, user, first: date | None = None, last: date | None = None, is_active: bool | None = None
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


def _streaks(active_days: list[date], *, today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days, from days in ascending order. The current
    streak ends today, or yesterday while today has no completed session yet (it is still
    alive until midnight)."""
    longest = run = 0
    previous: date | None = None
    for day in active_days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    alive = previous is not None and today - previous <= timedelta(days=1)
    return (run if alive else 0), longest


def focus_session_stats(*, user, days: int, now: datetime) -> FocusStats:
    """Completed sessions per local day for the last `days` days (today included), with
    totals and streaks. A session counts on the local day it started, so one that runs past
    midnight adds all its focus time to the day it began. One query, grouped by the database;
    its size is the number of days with sessions, not the number of sessions."""
    zone = ZoneInfo(user.timezone)
    today = local_today(zone, now=now)
    first = today - timedelta(days=days - 1)
    per_day = {
        row["day"]: row
        for row in FocusSession.objects.filter(user=user, is_active=False)
        .annotate(day=TruncDate("start_time", tzinfo=zone))
        .values("day")
        .annotate(sessions=Count("id"), focus=Sum("focus_seconds"))
        .order_by("day")
    }
    goal_seconds = user.daily_goal_minutes * 60 if user.daily_goal_minutes else None
    window = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = per_day.get(day, {"sessions": 0, "focus": 0})
        focus = int(row["focus"] or 0)
        met = goal_seconds is not None and focus >= goal_seconds
        window.append(DayStats(date=day, sessions=row["sessions"], focus_seconds=focus, goal_met=met))
    current, longest = _streaks(sorted(per_day), today=today)
    return FocusStats(
        timezone=user.timezone,
        days=window,
        total_focus_seconds=sum(day.focus_seconds for day in window),
        current_streak_days=current,
        longest_streak_days=longest,
    )


def focus_sessions_export(*, user) -> list[dict]:
    from focus_sessions.serializers import FocusSessionSerializer

    sessions = FocusSession.objects.filter(user=user).order_by("start_time", "id")
    return FocusSessionSerializer(sessions.iterator(chunk_size=2000), many=True).data
