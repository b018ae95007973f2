"""Goal rules: how much focus a user sets out to do per day or week, on a tag or on everything.

The goal with no tag and period `day` is the profile's `daily_goal_minutes` in its richer
form: one value, kept in step both ways in the same transaction. Setting, changing or deleting
that goal sets or clears `daily_goal_minutes` (a `profile` change for the sync feed); changing
`daily_goal_minutes` (`users.services.user_update`, which sends `daily_goal_changed`) makes,
changes or deletes that goal (a `goal` change). At most one goal per (tag, period): the
database's unique constraint, whose refusal is the 409 `goal_exists`.
"""

from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions

from focus_sessions.exceptions import GoalExists
from focus_sessions.models import GOAL_UNIQUE, Goal
from focus_sessions.serializers import GoalSerializer
from focus_sessions.tagging import tag_resolve
from focusflow.api.conditional import if_match_check
from focusflow.db.constraints import violated_constraint
from focusflow.sync.client_ids import client_fingerprint, client_id_retried
from focusflow.sync.feed import sync_seq_next, sync_seqs_take, tombstone_add
from users.models import User


class _Refused:
    """The database's refusal of a second goal for a tag and period, as the 409 with that goal
    (wraps the whole transaction, as focus_sessions.tags._NameRefused)."""

    def __init__(self, user: User) -> None:
        self.user, self.key = user, None

    def __enter__(self) -> "_Refused":
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if isinstance(exc, IntegrityError) and violated_constraint(exc) == GOAL_UNIQUE and self.key:
            tag_id, period = self.key
            existing = Goal.objects.filter(user=self.user, tag_id=tag_id, period=period).first()
            raise GoalExists(existing=existing) from None
        return False


def _goal_tag(*, user: User, tag_id: int | None) -> int | None:
    """A goal's tag as sent (`tagging.tag_resolve`), or None: all focus."""
    return None if tag_id is None else tag_resolve(user=user, tag=tag_id)


def _check(*, period: str, target_minutes: int) -> None:
    most = Goal.MAX_MINUTES[period]
    if target_minutes > most:
        raise exceptions.ValidationError({"target_minutes": [f"At most {most:,} minutes a {period}."]})


def _profile_goal_set(user: User, minutes: int | None) -> None:
    """The profile side of the daily goal, as a profile change (its own change number)."""
    if user.daily_goal_minutes == minutes:
        return
    user.profile_seq = sync_seq_next(user=user, profile=True)
    User.objects.filter(pk=user.pk).update(daily_goal_minutes=minutes)
    user.daily_goal_minutes = minutes


def goal_create(
    *, user: User, tag: int | None, period: str, target_minutes: int, client_id: UUID | None = None
) -> tuple[Goal, bool]:
    """Set a goal. Returns (goal, created), with the v1.1 client id rules first."""
    fingerprint = client_fingerprint("goal", {"tag": tag, "period": period, "target_minutes": target_minutes})
    with (refused := _Refused(user)), transaction.atomic():
        seq = sync_seq_next(user=user, refresh=("daily_goal_minutes",))
        existing = client_id_retried(
            Goal.objects.filter(user=user),
            user=user,
            kind="goal",
            client_id=client_id,
            fingerprint=fingerprint,
            serializer=GoalSerializer,
        )
        if existing is not None:
            return existing, False
        tag = _goal_tag(user=user, tag_id=tag)
        _check(period=period, target_minutes=target_minutes)
        now = timezone.now()
        refused.key = (tag, period)
        goal = Goal(
            user=user,
            tag_id=tag,
            period=period,
            target_minutes=target_minutes,
            client_id=client_id,
            client_fingerprint=fingerprint if client_id else "",
            sync_seq=seq,
            created_at=now,
            updated_at=now,
        )
        goal.save(force_insert=True)
        if goal.is_daily_goal:
            _profile_goal_set(user, target_minutes)
    return goal, True


def goal_owned(*, user: User, goal_id: int) -> Goal:
    goal = Goal.objects.filter(user=user, pk=goal_id).first()
    if goal is None:
        raise exceptions.NotFound()
    return goal


def goal_update(*, user: User, goal_id: int, if_match: str | None = None, **changes) -> Goal:
    """Change a goal's target, tag or period (the same values are no change). A goal that
    becomes, or stops being, the one with no tag and period `day` sets or clears the profile's
    `daily_goal_minutes`."""
    with (refused := _Refused(user)), transaction.atomic():
        seq = sync_seq_next(user=user, refresh=("daily_goal_minutes",))
        goal = goal_owned(user=user, goal_id=goal_id)
        if_match_check(goal, if_match, serializer=GoalSerializer)
        was_daily = goal.is_daily_goal
        if "tag" in changes:
            changes["tag"] = _goal_tag(user=user, tag_id=changes["tag"])
        fields = [
            name
            for name, attribute in (
                ("tag", "tag_id"),
                ("period", "period"),
                ("target_minutes", "target_minutes"),
            )
            if name in changes and changes[name] != getattr(goal, attribute)
        ]
        if not fields:
            transaction.set_rollback(True)
            return goal
        tag_id = changes.get("tag", goal.tag_id)
        period = changes.get("period", goal.period)
        target = changes.get("target_minutes", goal.target_minutes)
        _check(period=period, target_minutes=target)
        goal.tag_id, goal.period, goal.target_minutes = tag_id, period, target
        refused.key = (tag_id, period)
        goal.version += 1
        goal.sync_seq = seq
        goal.updated_at = timezone.now()
        goal.save(update_fields=["tag", "period", "target_minutes", "version", "sync_seq", "updated_at"])
        if goal.is_daily_goal:
            _profile_goal_set(user, goal.target_minutes)
        elif was_daily:
            _profile_goal_set(user, None)
    return goal


def goal_remove(*, user: User, goal: Goal, seq: int) -> None:
    """Delete a goal with its tombstone, in the caller's transaction (the lock held); the
    daily goal takes the profile's `daily_goal_minutes` with it."""
    goal_id, client_id, daily = goal.pk, goal.client_id, goal.is_daily_goal
    goal.delete()
    tombstone_add(user=user, kind="goal", object_id=goal_id, seq=seq, client_id=client_id)
    if daily:
        _profile_goal_set(user, None)


def goal_delete(*, user: User, goal_id: int, if_match: str | None = None) -> None:
    with transaction.atomic():
        seq = sync_seq_next(user=user, refresh=("daily_goal_minutes",))
        goal = goal_owned(user=user, goal_id=goal_id)
        if_match_check(goal, if_match, serializer=GoalSerializer)
        goal_remove(user=user, goal=goal, seq=seq)


def daily_goal_follow(sender, *, user: User, **kwargs) -> None:
    """`users.signals.daily_goal_changed`, inside the transaction that changed the profile's
    `daily_goal_minutes` (the user's row lock is held): the goal with no tag and period `day`
    follows it, as a goal change of its own."""
    minutes = user.daily_goal_minutes
    goal = Goal.objects.filter(user=user, tag__isnull=True, period=Goal.Period.DAY).first()
    if minutes is None:
        if goal is not None:
            goal_id, client_id = goal.pk, goal.client_id
            goal.delete()
            seq = sync_seqs_take(user=user, count=1)
            tombstone_add(user=user, kind="goal", object_id=goal_id, seq=seq, client_id=client_id)
        return
    now = timezone.now()
    if goal is None:
        Goal.objects.create(
            user=user,
            tag=None,
            period=Goal.Period.DAY,
            target_minutes=minutes,
            sync_seq=sync_seqs_take(user=user, count=1),
            created_at=now,
            updated_at=now,
        )
    elif goal.target_minutes != minutes:
        goal.target_minutes = minutes
        goal.version += 1
        goal.sync_seq = sync_seqs_take(user=user, count=1)
        goal.updated_at = now
        goal.save(update_fields=["target_minutes", "version", "sync_seq", "updated_at"])
