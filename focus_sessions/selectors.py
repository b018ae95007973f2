"""Reads: history with filters, and stats on the user's own calendar."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet
from rest_framework import exceptions

from focus_sessions.models import FocusDay, FocusDayTag, FocusSession, FocusStreak, Goal, Tag
from focusflow.core.dates import local_range_filter, local_today
from focusflow.db.rows import rows_of
from users.models import User


def focus_session_history(
    *,
    user: User,
    first: date | None = None,
    last: date | None = None,
    is_active: bool | None = None,
    tag: int | None = None,
) -> QuerySet[FocusSession]:
    """The user's sessions whose start falls on local days first..last (inclusive), with
    `tag` among their tags when given."""
    sessions = FocusSession.objects.filter(
        user=user,
        **local_range_filter("start_time", zone=ZoneInfo(user.timezone), first=first, last=last),
    )
    if is_active is not None:
        sessions = sessions.filter(is_active=is_active)
    if tag is not None:
        sessions = sessions.filter(tag_ids__contains=[tag])
    return sessions


@dataclass(frozen=True)
class DayStats:
    date: date
    sessions: int
    focus_seconds: int
    goal_met: bool
    goals_met: list[int]


@dataclass(frozen=True)
class TagStats:
    tag: int | None
    sessions: int
    focus_seconds: int


@dataclass(frozen=True)
class GoalProgress:
    goal: int
    period_start: date
    focus_seconds: int
    met: bool


@dataclass(frozen=True)
class FocusStats:
    timezone: str
    days: list[DayStats]
    total_focus_seconds: int
    current_streak_days: int
    longest_streak_days: int
    by_tag: list[TagStats]
    goals: list[GoalProgress]


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


@cache
def _tag_streaks_sql() -> str:
    """The streaks of one tag, from its rollup rows (`focus_day_tag_by_tag_idx`): runs of
    consecutive days are the days whose date minus their rank is the same."""
    table = connection.ops.quote_name(FocusDayTag._meta.db_table)
    return (
        "WITH runs AS (SELECT max(date) AS last, count(*) AS days FROM (SELECT date, "
        f"date - CAST(row_number() OVER (ORDER BY date) AS integer) AS run FROM {table} "
        "WHERE tag_id = %(tag)s AND user_id = %(user)s) AS days GROUP BY run) "
        "SELECT (SELECT last FROM runs ORDER BY last DESC LIMIT 1), "
        "(SELECT days FROM runs ORDER BY last DESC LIMIT 1), (SELECT max(days) FROM runs)"
    )


def _tag_streaks(*, user: User, tag: int) -> tuple[date | None, int | None, int | None]:
    with connection.cursor() as cursor:
        cursor.execute(_tag_streaks_sql(), {"user": user.pk, "tag": tag})
        return cursor.fetchone()


@cache
def _window_sql() -> str:
    """A window of the rollup, whole days and per tag, in one statement: `(date, tag, sessions,
    focus, untagged sessions, untagged focus)`, `tag` null on a day's own row."""
    quote = connection.ops.quote_name
    days, tags = quote(FocusDay._meta.db_table), quote(FocusDayTag._meta.db_table)
    return (
        "SELECT date, CAST(NULL AS bigint), sessions, focus_seconds, "
        "untagged_sessions, untagged_focus_seconds "
        f"FROM {days} WHERE user_id = %(user)s AND date >= %(first)s AND date <= %(last)s UNION ALL "
        f"SELECT date, tag_id, sessions, focus_seconds, 0, 0 FROM {tags} "
        "WHERE user_id = %(user)s AND date >= %(first)s AND date <= %(last)s"
    )


# Per local day: {tag id, or None for the whole day, or UNTAGGED: (sessions, focus seconds)}.
UNTAGGED = "untagged"
Counts = dict[date, dict[int | str | None, tuple[int, int]]]


def _rollup_window(*, user: User, first: date, last: date) -> Counts:
    counts: Counts = {}
    with connection.cursor() as cursor:
        cursor.execute(_window_sql(), {"user": user.pk, "first": first, "last": last})
        for day, tag, sessions, focus, untagged, untagged_focus in cursor.fetchall():
            per_day = counts.setdefault(day, {})
            per_day[tag] = (sessions, focus)
            if tag is None and untagged:
                per_day[UNTAGGED] = (untagged, untagged_focus)
    return counts


def _tagged_window(*, user: User, tag: int, zone: ZoneInfo, first: date, last: date) -> Counts:
    """The same counts for the completed sessions that carry `tag` only (`?tag=`): a session
    counts under each of its tags, so the counts of the other tags among them need the
    sessions themselves, those of the window alone (by `session_history_idx`)."""
    counts: Counts = {}
    sessions = FocusSession.objects.filter(
        user=user,
        is_active=False,
        tag_ids__contains=[tag],
        **local_range_filter("start_time", zone=zone, first=first, last=last),
    ).values_list("start_time", "focus_seconds", "tag_ids")
    for start, focus, tags in sessions:
        per_day = counts.setdefault(start.astimezone(zone).date(), {})
        for key in (None, *tags):
            n, seconds = per_day.get(key, (0, 0))
            per_day[key] = (n + 1, seconds + (focus or 0))
    return counts


def stats_tag_check(*, user: User, tag: int) -> None:
    if not Tag.objects.filter(user=user, pk=tag).exists():
        raise exceptions.ValidationError({"tag": ["No such tag among yours."]})


def focus_session_stats(*, user: User, days: int, now: datetime, tag: int | None = None) -> FocusStats:
    """Completed sessions per local day for the last `days` days (today included), with
    totals, streaks, focus per tag (`by_tag`) and each goal's current period. A session counts
    on the local day it started, so one that runs past midnight adds all its focus time to the
    day it began. Read from the rollup kept by `focus_sessions.rollup`: one statement for the
    window's days and tags, one for the goals, one for the longest and the latest streak, by
    index, whatever the length of the history. The window reaches back to this week's Monday
    when a week goal needs it.

    With `tag`, only the sessions with that tag count: the streaks come from that tag's
    rollup rows, the rest from the window's sessions with the tag.

    The current streak ends today, or yesterday while today has no completed session yet (it
    is alive until midnight)."""
    zone = ZoneInfo(user.timezone)
    today = local_today(zone, now=now)
    first = today - timedelta(days=days - 1)
    monday = today - timedelta(days=today.weekday())
    if tag is not None:
        stats_tag_check(user=user, tag=tag)
    goals = rows_of(Goal, user=user.pk)
    since = min(first, monday) if any(goal.period == Goal.Period.WEEK for goal in goals) else first
    if tag is None:
        counts = _rollup_window(user=user, first=since, last=today)
        latest_last, latest_days, longest = _streaks(user=user)
    else:
        counts = _tagged_window(user=user, tag=tag, zone=zone, first=since, last=today)
        latest_last, latest_days, longest = _tag_streaks(user=user, tag=tag)

    def focus_of(day: date, key: int | None) -> int:
        return counts.get(day, {}).get(key, (0, 0))[1]

    goal_seconds = user.daily_goal_minutes * 60 if user.daily_goal_minutes else None
    day_goals = sorted((goal for goal in goals if goal.period == Goal.Period.DAY), key=lambda goal: goal.pk)
    window = []
    by_tag: dict[int | None, list[int]] = {}
    for offset in range(days):
        day = first + timedelta(days=offset)
        sessions, focus = counts.get(day, {}).get(None, (0, 0))
        met = goal_seconds is not None and focus >= goal_seconds
        goals_met = [goal.pk for goal in day_goals if focus_of(day, goal.tag_id) >= goal.target_minutes * 60]
        window.append(
            DayStats(date=day, sessions=sessions, focus_seconds=focus, goal_met=met, goals_met=goals_met)
        )
        for key, (n, seconds) in counts.get(day, {}).items():
            if key is not None:
                entry = by_tag.setdefault(None if key == UNTAGGED else key, [0, 0])
                entry[0] += n
                entry[1] += seconds
    progress = []
    for goal in sorted(goals, key=lambda goal: goal.pk):
        start = today if goal.period == Goal.Period.DAY else monday
        seconds = sum(
            focus_of(start + timedelta(days=n), goal.tag_id) for n in range((today - start).days + 1)
        )
        progress.append(
            GoalProgress(
                goal=goal.pk,
                period_start=start,
                focus_seconds=seconds,
                met=seconds >= goal.target_minutes * 60,
            )
        )
    alive = latest_last is not None and latest_last >= today - timedelta(days=1)
    return FocusStats(
        timezone=user.timezone,
        days=window,
        total_focus_seconds=sum(day.focus_seconds for day in window),
        current_streak_days=(latest_days or 0) if alive else 0,
        longest_streak_days=longest or 0,
        by_tag=[
            TagStats(tag=key, sessions=n, focus_seconds=seconds)
            for key, (n, seconds) in sorted(
                by_tag.items(), key=lambda item: (-item[1][1], item[0] is None, item[0] or 0)
            )
        ],
        goals=progress,
    )


def tag_list(*, user: User, archived: bool | None = None) -> QuerySet[Tag]:
    """The user's tags, by name case-insensitively, then id."""
    tags = Tag.objects.filter(user=user)
    return tags if archived is None else tags.filter(archived=archived)


def goal_list(*, user: User) -> QuerySet[Goal]:
    return Goal.objects.filter(user=user)


def focus_sessions_export_rows(*, user: User) -> QuerySet[FocusSession]:
    """The user's sessions for the data export, oldest first."""
    return FocusSession.objects.filter(user=user).order_by("start_time", "id")


def tags_export_rows(*, user: User) -> QuerySet[Tag]:
    return Tag.objects.filter(user=user).order_by("id")


def goals_export_rows(*, user: User) -> QuerySet[Goal]:
    return Goal.objects.filter(user=user).order_by("id")
