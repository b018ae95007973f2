"""The per-day rollup and the streaks, kept in step with the sessions.

A completed session counts once, on the local day it started (the user's time zone), with its
focus seconds. Every service that completes, corrects or deletes a completed session calls
`rollup_count` in its own transaction (the user's row lock is held, so no two writes of one
user interleave here); a change of time zone rebuilds the user's rollup. Days appear in the
rollup when their first session comes and go when their last one does; streaks (runs of
consecutive days) are merged and split as days appear and go.

Per tag: a completed session counts under each of its tags on its day (`FocusDayTag`), and a
session without tags counts in its day's `untagged_*` columns; a change of a session's tags
moves its counts (`rollup_tags_change`).
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from focus_sessions.models import FocusDay, FocusDayTag, FocusSession, FocusStreak
from users.models import User

ONE_DAY = timedelta(days=1)


def local_day(session: FocusSession, *, zone: ZoneInfo) -> date:
    return session.start_time.astimezone(zone).date()


def rollup_count(session: FocusSession, *, user: User, sign: int) -> None:
    """Add (sign=1) or take away (sign=-1) a completed session's day and focus time, under
    each of its tags (`tag_ids`) or as untagged."""
    if session.end_time is None:
        return  # running sessions count once they stop
    day = local_day(session, zone=ZoneInfo(user.timezone))
    focus = session.focus_seconds or 0
    untagged = 0 if session.tag_ids else 1
    table = connection.ops.quote_name(FocusDay._meta.db_table)
    with connection.cursor() as cursor:
        if sign > 0:
            # One statement whether or not the day had a row; 1 back means a new day.
            cursor.execute(
                f"INSERT INTO {table} (user_id, date, sessions, focus_seconds, untagged_sessions, "
                "untagged_focus_seconds) VALUES (%s, %s, 1, %s, %s, %s) "
                f"ON CONFLICT (user_id, date) DO UPDATE SET sessions = {table}.sessions + 1, "
                f"focus_seconds = {table}.focus_seconds + EXCLUDED.focus_seconds, "
                f"untagged_sessions = {table}.untagged_sessions + EXCLUDED.untagged_sessions, "
                f"untagged_focus_seconds = {table}.untagged_focus_seconds + EXCLUDED.untagged_focus_seconds "
                "RETURNING sessions",
                [user.pk, day, focus, untagged, untagged * focus],
            )
            if cursor.fetchone()[0] == 1:
                _streak_add(user, day)
            _tags_count(user, day, tags=session.tag_ids, focus=focus, sign=1)
            return
        _tags_count(user, day, tags=session.tag_ids, focus=focus, sign=-1)
        cursor.execute(
            f"UPDATE {table} SET sessions = sessions - 1, focus_seconds = focus_seconds - %s, "
            "untagged_sessions = untagged_sessions - %s, "
            "untagged_focus_seconds = untagged_focus_seconds - %s "
            "WHERE user_id = %s AND date = %s AND sessions > 1",
            [focus, untagged, untagged * focus, user.pk, day],
        )
        if cursor.rowcount == 0:  # it was the day's last session
            cursor.execute(f"DELETE FROM {table} WHERE user_id = %s AND date = %s", [user.pk, day])
            _streak_remove(user, day)


def _tags_count(user: User, day: date, *, tags: list[int], focus: int, sign: int) -> None:
    """One session more (or less) under each of `tags` on `day`: one statement each way, so a
    session with many tags costs what one with a single tag does."""
    if not tags:
        return
    table = connection.ops.quote_name(FocusDayTag._meta.db_table)
    with connection.cursor() as cursor:
        if sign > 0:
            cursor.execute(
                f"INSERT INTO {table} (user_id, date, tag_id, sessions, focus_seconds) "
                "SELECT %s, %s, tag, 1, %s FROM unnest(%s::bigint[]) AS tag "
                f"ON CONFLICT (user_id, date, tag_id) DO UPDATE SET sessions = {table}.sessions + 1, "
                f"focus_seconds = {table}.focus_seconds + EXCLUDED.focus_seconds",
                [user.pk, day, focus, list(tags)],
            )
            return
        # A row whose last session goes is deleted, the others counted down, in one statement.
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} WHERE user_id = %s AND date = %s AND tag_id = ANY(%s) "
            "AND sessions = 1 RETURNING tag_id) "
            f"UPDATE {table} SET sessions = sessions - 1, focus_seconds = focus_seconds - %s "
            "WHERE user_id = %s AND date = %s AND tag_id = ANY(%s) "
            "AND tag_id NOT IN (SELECT tag_id FROM gone)",
            [user.pk, day, list(tags), focus, user.pk, day, list(tags)],
        )


def rollup_tags_change(session: FocusSession, *, user: User, before: list[int]) -> None:
    """A completed session's tags changed from `before` to its `tag_ids`: move its counts."""
    if session.end_time is None:
        return
    day = local_day(session, zone=ZoneInfo(user.timezone))
    focus = session.focus_seconds or 0
    after = session.tag_ids
    _tags_count(user, day, tags=sorted(set(before) - set(after)), focus=focus, sign=-1)
    _tags_count(user, day, tags=sorted(set(after) - set(before)), focus=focus, sign=1)
    if bool(before) != bool(after):
        untagged_add(user, {day: (1, focus)}, sign=1 if before else -1)


# Sessions counted per day, as three arrays (one statement whatever the number of days).
_MOVED = "unnest(%s::date[], %s::bigint[], %s::bigint[]) AS moved(date, sessions, focus)"


def _columns(per_day: dict[date, tuple[int, int]]) -> list[list]:
    days = sorted(per_day)
    return [days, [per_day[day][0] for day in days], [per_day[day][1] for day in days]]


def untagged_add(user: User, per_day: dict[date, tuple[int, int]], *, sign: int) -> None:
    """Sessions that lost (sign=1) or gained (sign=-1) their last tag, counted per day."""
    if not per_day:
        return
    table = connection.ops.quote_name(FocusDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS day SET untagged_sessions = day.untagged_sessions + %s * moved.sessions, "
            "untagged_focus_seconds = day.untagged_focus_seconds + %s * moved.focus "
            f"FROM {_MOVED} WHERE day.user_id = %s AND day.date = moved.date",
            [sign, sign, *_columns(per_day), user.pk],
        )


def tag_days_add(user: User, tag_id: int, per_day: dict[date, tuple[int, int]]) -> None:
    """Sessions that gained `tag_id` (a merge), counted per day."""
    if not per_day:
        return
    table = connection.ops.quote_name(FocusDayTag._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, date, tag_id, sessions, focus_seconds) "
            f"SELECT %s, moved.date, %s, moved.sessions, moved.focus FROM {_MOVED} "
            f"ON CONFLICT (user_id, date, tag_id) DO UPDATE SET sessions = {table}.sessions + "
            f"EXCLUDED.sessions, focus_seconds = {table}.focus_seconds + EXCLUDED.focus_seconds",
            [user.pk, tag_id, *_columns(per_day)],
        )


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
    FocusDayTag.objects.filter(user=user).delete()
    FocusStreak.objects.filter(user=user).delete()
    zone = ZoneInfo(user.timezone)
    days: dict[date, list[int]] = {}
    tagged: dict[tuple[date, int], list[int]] = {}
    for start, focus, tags in FocusSession.objects.filter(user=user, is_active=False).values_list(
        "start_time", "focus_seconds", "tag_ids"
    ):
        day, focus = start.astimezone(zone).date(), focus or 0
        counts = days.setdefault(day, [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += focus
        if not tags:
            counts[2] += 1
            counts[3] += focus
        for tag in tags:
            per_tag = tagged.setdefault((day, tag), [0, 0])
            per_tag[0] += 1
            per_tag[1] += focus
    FocusDay.objects.bulk_create(
        [
            FocusDay(
                user=user,
                date=day,
                sessions=n,
                focus_seconds=s,
                untagged_sessions=un,
                untagged_focus_seconds=us,
            )
            for day, (n, s, un, us) in days.items()
        ]
    )
    FocusDayTag.objects.bulk_create(
        [
            FocusDayTag(user=user, date=day, tag_id=tag, sessions=n, focus_seconds=s)
            for (day, tag), (n, s) in tagged.items()
        ]
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
