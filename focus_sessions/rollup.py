"""The per-day rollup and the streaks, kept in step with the sessions.

A completed session counts once, on the local day it started (the user's time zone), with its
focus seconds. Every service that completes, corrects or deletes a completed session calls
`rollup_count` in its own transaction (the user's row lock is held, so no two writes of one
user interleave here); a change of time zone rebuilds the user's rollup. Days appear in the
rollup when their first session comes and go when their last one does; streaks (runs of
consecutive days) are merged and split as days appear and go.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from focus_sessions.models import FocusDay, FocusSession, FocusStreak
from users.models import User

ONE_DAY = timedelta(days=1)


def local_day(session: FocusSession, *, zone: ZoneInfo) -> date:
    return session.start_time.astimezone(zone).date()


def rollup_count(session: FocusSession, *, user: User, sign: int) -> None:
    """Add (sign=1) or take away (sign=-1) a completed session's day and focus time."""
    if session.end_time is None:
        return  # running sessions count once they stop
    day = local_day(session, zone=ZoneInfo(user.timezone))
    focus = session.focus_seconds or 0
    table = connection.ops.quote_name(FocusDay._meta.db_table)
    with connection.cursor() as cursor:
        if sign > 0:
            # One statement whether or not the day had a row; 1 back means a new day.
            cursor.execute(
                f"INSERT INTO {table} (user_id, date, sessions, focus_seconds) VALUES (%s, %s, 1, %s) "
                f"ON CONFLICT (user_id, date) DO UPDATE SET sessions = {table}.sessions + 1, "
                f"focus_seconds = {table}.focus_seconds + EXCLUDED.focus_seconds RETURNING sessions",
                [user.pk, day, focus],
            )
            if cursor.fetchone()[0] == 1:
                _streak_add(user, day)
            return
        cursor.execute(
            f"UPDATE {table} SET sessions = sessions - 1, focus_seconds = focus_seconds - %s "
            "WHERE user_id = %s AND date = %s AND sessions > 1",
            [focus, user.pk, day],
        )
        if cursor.rowcount == 0:  # it was the day's last session
            cursor.execute(f"DELETE FROM {table} WHERE user_id = %s AND date = %s", [user.pk, day])
            _streak_remove(user, day)


def _saved(streak: FocusStreak) -> None:
    streak.days = (streak.last - streak.first).days + 1
    streak.save()


def _streak_add(user: User, day: date) -> None:
    """`day` just got its first session: join the streaks on either side of it."""
    before = FocusStreak.objects.filter(user=user, last=day - ONE_DAY).first()
    after = FocusStreak.objects.filter(user=user, first=day + ONE_DAY).first()
    if before and after:
        before.last = after.last
        after.delete()
        _saved(before)
    elif before:
        before.last = day
        _saved(before)
    elif after:
        after.first = day
        _saved(after)
    else:
        FocusStreak.objects.create(user=user, first=day, last=day, days=1)


def _streak_remove(user: User, day: date) -> None:
    """`day` lost its last session: cut it out of its streak."""
    streak = FocusStreak.objects.filter(user=user, first__lte=day, last__gte=day).first()
    if streak is None:
        return
    if streak.first == streak.last:
        streak.delete()
    elif day == streak.first:
        streak.first = day + ONE_DAY
        _saved(streak)
    elif day == streak.last:
        streak.last = day - ONE_DAY
        _saved(streak)
    else:
        FocusStreak.objects.create(
            user=user, first=day + ONE_DAY, last=streak.last, days=(streak.last - day).days
        )
        streak.last = day - ONE_DAY
        _saved(streak)


def rollup_rebuild(*, user: User) -> None:
    """Count the user's completed sessions afresh (their days move with a new time zone)."""
    FocusDay.objects.filter(user=user).delete()
    FocusStreak.objects.filter(user=user).delete()
    zone = ZoneInfo(user.timezone)
    days: dict[date, list[int]] = {}
    for start, focus in FocusSession.objects.filter(user=user, is_active=False).values_list(
        "start_time", "focus_seconds"
    ):
        counts = days.setdefault(start.astimezone(zone).date(), [0, 0])
        counts[0] += 1
        counts[1] += focus or 0
    FocusDay.objects.bulk_create(
        [FocusDay(user=user, date=day, sessions=n, focus_seconds=s) for day, (n, s) in days.items()]
    )
    streaks, run = [], None
    for day in sorted(days):
        if run is not None and day == run[1] + ONE_DAY:
            run[1] = day
        else:
            run = [day, day]
            streaks.append(run)
    FocusStreak.objects.bulk_create(
        [FocusStreak(user=user, first=a, last=b, days=(b - a).days + 1) for a, b in streaks]
    )


def recount_days(sender, *, user: User, **kwargs) -> None:
    """`users.signals.time_zone_changed`: the sessions fall on other local days now."""
    rollup_rebuild(user=user)
