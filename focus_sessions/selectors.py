"""Reads: history with filters, and stats on the user's own calendar."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet

from focus_sessions.models import FocusDay, FocusDayTag, FocusSession, FocusStreak, Goal, Tag
from focus_sessions.tagging import tag_resolve
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
    `tag` among their tags when given (`tag_resolve`: not the user's, a 400)."""
    if tag is not None:
        tag = tag_resolve(user=user, tag=tag)
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
    """What stats reads, in one statement and by index whatever the length of the history,
    one row per fact, `(kind, day, key, a, b)`:

    - `d`: a day with focus, from the window's first day or this week's Monday if earlier:
      `(d, date, -, sessions, focus)`;
    - `t`: a tag's sums over the window, `key` null for the sessions without tags:
      `(t, -, tag, sessions, focus)`;
    - `day` or `week`: a goal, by its period: `(period, -, goal id, tag, target minutes)`;
    - `x`: a day's focus on a tag that has a goal, over the same days as `d`:
      `(x, date, tag, -, focus)`;
    - `s`: the streaks: `(s, the latest streak's last day, its length, the longest's length, -)`.

    Sums are SQL's; goal progress is Python's, over the few `x` rows. Planning dominates a
    statement this small: every join or subquery more in it costs more than the rows it saves
    (`make bench`, docs/performance.md), hence the goals' tags as an array, not a join."""
    quote = connection.ops.quote_name
    days, tags = quote(FocusDay._meta.db_table), quote(FocusDayTag._meta.db_table)
    goals, streaks = quote(Goal._meta.db_table), quote(FocusStreak._meta.db_table)
    window = "user_id = %(user)s AND date >= %(first)s AND date <= %(today)s"
    since = "user_id = %(user)s AND date >= %(since)s AND date <= %(today)s"
    latest = f"FROM {streaks} WHERE user_id = %(user)s ORDER BY last DESC LIMIT 1"
    return (
        f"SELECT 'd', date, CAST(NULL AS bigint), CAST(sessions AS bigint), focus_seconds FROM {days} "
        f"WHERE {since} UNION ALL "
        "SELECT 't', NULL, tag_id, CAST(sum(sessions) AS bigint), CAST(sum(focus_seconds) AS bigint) "
        f"FROM {tags} WHERE {window} GROUP BY tag_id UNION ALL "
        "SELECT 't', NULL, NULL, CAST(sum(untagged_sessions) AS bigint), "
        f"CAST(sum(untagged_focus_seconds) AS bigint) FROM {days} WHERE {window} "
        "HAVING sum(untagged_sessions) > 0 UNION ALL "
        f"SELECT period, NULL, id, tag_id, target_minutes FROM {goals} WHERE user_id = %(user)s UNION ALL "
        f"SELECT 'x', date, tag_id, NULL, focus_seconds FROM {tags} WHERE {since} "
        f"AND tag_id = ANY(ARRAY(SELECT tag_id FROM {goals} WHERE user_id = %(user)s)) UNION ALL "
        f"SELECT 's', (SELECT last {latest}), (SELECT CAST(days AS bigint) {latest}), "
        f"(SELECT CAST(days AS bigint) FROM {streaks} WHERE user_id = %(user)s ORDER BY days DESC LIMIT 1), "
        "NULL"
    )


Row = tuple[str, date | None, int | None, int | None, int | None]


def _rollup_window(*, user: User, first: date, since: date, today: date) -> list[Row]:
    with connection.cursor() as cursor:
        cursor.execute(_window_sql(), {"user": user.pk, "first": first, "since": since, "today": today})
        return cursor.fetchall()


def _tagged_window(
    *, user: User, tag: int, zone: ZoneInfo, first: date, since: date, today: date
) -> list[Row]:
    """The same rows for the completed sessions that carry `tag` only (`?tag=`): a session
    counts under each of its tags, so the counts of the other tags among them need the
    sessions themselves, those since `since` alone (by `session_history_idx`)."""
    sessions = FocusSession.objects.filter(
        user=user,
        is_active=False,
        tag_ids__contains=[tag],
        **local_range_filter("start_time", zone=zone, first=since, last=today),
    ).values_list("start_time", "focus_seconds", "tag_ids")
    # per (local day, tag id or None for the whole day): [sessions, focus seconds]
    counts: dict[tuple[date, int | None], list[int]] = {}
    for start, focus, tag_ids in sessions:
        day = start.astimezone(zone).date()
        for key in (None, *tag_ids):
            entry = counts.setdefault((day, key), [0, 0])
            entry[0] += 1
            entry[1] += focus or 0
    sums: dict[int, list[int]] = {}
    for (day, key), (n, seconds) in counts.items():
        if key is not None and day >= first:
            entry = sums.setdefault(key, [0, 0])
            entry[0] += n
            entry[1] += seconds
    goals = rows_of(Goal, user=user.pk)
    return [
        *(("d", day, None, n, seconds) for (day, key), (n, seconds) in counts.items() if key is None),
        *(("t", None, key, n, seconds) for key, (n, seconds) in sums.items()),
        *((goal.period, None, goal.pk, goal.tag_id, goal.target_minutes) for goal in goals),
        *(("x", day, key, None, seconds) for (day, key), (_, seconds) in counts.items() if key is not None),
        ("s", *_tag_streaks(user=user, tag=tag), None),
    ]


def focus_session_stats(*, user: User, days: int, now: datetime, tag: int | None = None) -> FocusStats:
    """Completed sessions per local day for the last `days` days (today included), with
    totals, streaks, focus per tag (`by_tag`) and each goal's current period. A session counts
    on the local day it started, so one that runs past midnight adds all its focus time to the
    day it began. Read from the rollup kept by `focus_sessions.rollup` in one statement
    (`_window_sql`), by index, whatever the length of the history; the days read reach back to
    this week's Monday, for the week goals.

    With `tag`, only the sessions with that tag count: the streaks come from that tag's
    rollup rows, the rest from the window's sessions with the tag.

    The current streak ends today, or yesterday while today has no completed session yet (it
    is alive until midnight)."""
    zone = ZoneInfo(user.timezone)
    today = local_today(zone, now=now)
    first = today - timedelta(days=days - 1)
    monday = today - timedelta(days=today.weekday())
    since = min(first, monday)
    if tag is None:
        rows = _rollup_window(user=user, first=first, since=since, today=today)
    else:
        tag = tag_resolve(user=user, tag=tag)
        rows = _tagged_window(user=user, tag=tag, zone=zone, first=first, since=since, today=today)
    per_day: dict[date, tuple[int, int]] = {}
    # focus per day since `since`, by tag (None: the whole day's), for the goals
    focus_by: dict[int | None, list[tuple[date, int]]] = {}
    by_tag, goals = [], []
    latest_last = latest_days = longest = None
    for kind, day, key, a, b in rows:
        if kind == "d":
            per_day[day] = (a, b)
            focus_by.setdefault(None, []).append((day, b))
        elif kind == "x":
            focus_by.setdefault(key, []).append((day, b))
        elif kind == "t":
            by_tag.append(TagStats(tag=key, sessions=a, focus_seconds=b))
        elif kind == "s":
            latest_last, latest_days, longest = day, key, a
        else:
            goals.append((key, kind, a, b * 60))
    met: dict[date, list[int]] = {}
    progress = []
    for goal, period, goal_tag, target in sorted(goals):
        start = today if period == Goal.Period.DAY else monday
        days_focus = focus_by.get(goal_tag, ())
        total = sum(seconds for day, seconds in days_focus if day >= start)
        progress.append(GoalProgress(goal=goal, period_start=start, focus_seconds=total, met=total >= target))
        if period == Goal.Period.DAY:
            for day, seconds in days_focus:
                if day >= first and seconds >= target:
                    met.setdefault(day, []).append(goal)
    goal_seconds = user.daily_goal_minutes * 60 if user.daily_goal_minutes else None
    window = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        sessions, focus = per_day.get(day, (0, 0))
        window.append(
            DayStats(
                date=day,
                sessions=sessions,
                focus_seconds=focus,
                goal_met=goal_seconds is not None and focus >= goal_seconds,
                goals_met=met.get(day, []),
            )
        )
    by_tag.sort(key=lambda entry: (-entry.focus_seconds, entry.tag is None, entry.tag or 0))
    alive = latest_last is not None and latest_last >= today - timedelta(days=1)
    return FocusStats(
        timezone=user.timezone,
        days=window,
        total_focus_seconds=sum(day.focus_seconds for day in window),
        current_streak_days=(latest_days or 0) if alive else 0,
        longest_streak_days=longest or 0,
        by_tag=by_tag,
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
