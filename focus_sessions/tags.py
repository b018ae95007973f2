"""Tag rules: make, rename, archive, delete and merge a user's tags.

Every write takes the user's next change number first (`focusflow.sync.feed.sync_seq_next`),
which locks the user's row: session writes take it too, so a merge or a delete and another
device tagging a session run one after the other, never interleaved. The database holds the
rest on its own: a name is unique among the user's tags case-folded (its refusal is the 409
`tag_name_taken`), and a session tag points at a live tag of the same user.

A delete or a merge rewrites every session of the tag in the same transaction, each with a new
version and its own change number, so every device converges through the sync feed.
"""

from collections import defaultdict
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework import exceptions

from focus_sessions.exceptions import TagNameTaken
from focus_sessions.goals import goal_remove
from focus_sessions.models import (
    TAG_NAME_FOLD_UNIQUE,
    TAG_NAME_UNIQUE,
    DeletedTag,
    FocusSession,
    Goal,
    SessionTag,
    Tag,
    tag_name_fold,
)
from focus_sessions.rollup import tag_days_add, untagged_add
from focus_sessions.serializers import TagSerializer
from focusflow.api.conditional import if_match_check
from focusflow.db.constraints import violated_constraint
from focusflow.sync.client_ids import client_fingerprint, client_id_retried
from focusflow.sync.feed import sync_seq_next, sync_seqs_take, tombstone_add
from users.models import User


def tag_owned(*, user: User, tag_id: int) -> Tag:
    """The caller's own tag, else a 404 (whoever else's it is)."""
    tag = Tag.objects.filter(user=user, pk=tag_id).first()
    if tag is None:
        raise exceptions.NotFound()
    return tag


# A name is taken case-folded (`name_fold`) and, for the release before migration 0009, by
# PostgreSQL's lower() (`name_key`): either refusal is the 409.
NAME_CONSTRAINTS = (TAG_NAME_FOLD_UNIQUE, TAG_NAME_UNIQUE)


class _NameRefused:
    """Turns the database's refusal of a second tag of the same name into the 409, with the
    tag that has it. Wraps the whole transaction: by the time it runs, the failed transaction
    is rolled back and the tag can be read."""

    def __init__(self, user: User) -> None:
        self.user, self.name = user, None

    def __enter__(self) -> "_NameRefused":
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        refused = isinstance(exc, IntegrityError) and violated_constraint(exc) in NAME_CONSTRAINTS
        if refused and self.name:
            tags = Tag.objects.filter(user=self.user)
            existing = (
                tags.filter(name_fold=tag_name_fold(self.name)).first()
                or tags.filter(name_key=Lower(Value(self.name))).first()
            )
            raise TagNameTaken(existing=existing) from None
        return False


def tag_create(
    *, user: User, name: str, color: str | None = None, client_id: UUID | None = None
) -> tuple[Tag, bool]:
    """Make a tag. Returns (tag, created): a retry with the same client id and fields returns
    the tag it made. The v1.1 client id rules come before the name's: a retried upload whose
    tag was renamed since is still the same tag."""
    fingerprint = client_fingerprint("tag", {"name": name, "color": color})
    with (refused := _NameRefused(user)), transaction.atomic():
        seq = sync_seq_next(user=user)
        existing = client_id_retried(
            Tag.objects.filter(user=user),
            user=user,
            kind="tag",
            client_id=client_id,
            fingerprint=fingerprint,
            serializer=TagSerializer,
        )
        if existing is not None:
            return existing, False
        now = timezone.now()
        refused.name = name
        tag = Tag(
            user=user,
            name=name,
            color=color,
            client_id=client_id,
            client_fingerprint=fingerprint if client_id else "",
            sync_seq=seq,
            created_at=now,
            updated_at=now,
        )
        tag.save(force_insert=True)
    return tag, True


def tag_update(*, user: User, tag_id: int, if_match: str | None = None, **changes) -> Tag:
    """Rename, recolour, archive or unarchive a tag. The same values are no change."""
    with (refused := _NameRefused(user)), transaction.atomic():
        seq = sync_seq_next(user=user)
        tag = tag_owned(user=user, tag_id=tag_id)
        if_match_check(tag, if_match, serializer=TagSerializer)
        fields = [
            name
            for name in ("name", "color", "archived")
            if name in changes and changes[name] != getattr(tag, name)
        ]
        if not fields:
            transaction.set_rollback(True)
            return tag
        for name in fields:
            setattr(tag, name, changes[name])
        refused.name = tag.name if "name" in fields else None
        tag.version += 1
        tag.sync_seq = seq
        tag.updated_at = timezone.now()
        tag.save(update_fields=[*fields, "version", "sync_seq", "updated_at"])
    return tag


def _retag_sessions(user: User, *, gone: int, into: int | None) -> None:
    """Take tag `gone` off every session of the user that has it, putting `into` on instead
    (once) when given, each session with a new version and change number; the per-tag rollup
    follows. `gone`'s own rollup rows and session rows go with the tag."""
    table = connection.ops.quote_name(FocusSession._meta.db_table)
    touched = list(
        FocusSession.objects.filter(user=user, tag_ids__contains=[gone])
        .order_by("id")
        .values_list("id", "start_time", "focus_seconds", "tag_ids", "is_active")
    )
    if not touched:
        return
    first = sync_seqs_take(user=user, count=len(touched))
    if into is None:
        new_tags = "array_remove(s.tag_ids, %s::bigint)"
        params: list = [gone]
    else:
        new_tags = (
            "ARRAY(SELECT DISTINCT t FROM unnest(array_remove(s.tag_ids, %s::bigint) || %s::bigint) AS t "
            "ORDER BY t)"
        )
        params = [gone, into]
        SessionTag.objects.bulk_create(
            [SessionTag(user=user, session_id=row[0], tag_id=into) for row in touched if into not in row[3]]
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET tag_ids = {new_tags}, version = s.version + 1, "
            "sync_seq = numbered.seq, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS numbered(id, seq) "
            "WHERE s.id = numbered.id AND s.user_id = %s",
            [
                *params,
                timezone.now(),
                [row[0] for row in touched],
                list(range(first, first + len(touched))),
                user.pk,
            ],
        )
    zone = ZoneInfo(user.timezone)
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for _, start, focus, tags, is_active in touched:
        if is_active:
            continue  # running sessions count once they stop
        # A delete: the sessions left without a tag count as untagged now. A merge: the
        # sessions that did not have `into` count under it now.
        if (into is None and tags == [gone]) or (into is not None and into not in tags):
            counts = per_day[start.astimezone(zone).date()]
            counts[0] += 1
            counts[1] += focus or 0
    days = {day: (n, seconds) for day, (n, seconds) in per_day.items()}
    if into is None:
        untagged_add(user, days, sign=1)
    else:
        tag_days_add(user, into, days)


def _tag_gone(user: User, tag: Tag, *, seq: int, into: int | None = None) -> None:
    """Delete a tag, remembering it (and `into`, the tag a merge put in its place). The tags
    merged into it before follow it: into `into`, or nowhere."""
    tag_id, client_id = tag.pk, tag.client_id
    tag.delete()  # its session rows and rollup rows go with it (the sessions are rewritten)
    DeletedTag.objects.filter(user=user, merged_into=tag_id).update(merged_into=into)
    DeletedTag.objects.create(user=user, tag_id=tag_id, merged_into=into)
    tombstone_add(user=user, kind="tag", object_id=tag_id, seq=seq, client_id=client_id)


def _goal_gone(user: User, goal: Goal) -> None:
    """Delete a goal in a tag's delete or merge, with its own change number."""
    goal_remove(user=user, goal=goal, seq=sync_seqs_take(user=user, count=1))


def tag_delete(*, user: User, tag_id: int, if_match: str | None = None) -> None:
    """Delete a tag: it comes off its sessions (each a change), and its goals are deleted."""
    with transaction.atomic():
        seq = sync_seq_next(user=user, refresh=("timezone",))
        tag = tag_owned(user=user, tag_id=tag_id)
        if_match_check(tag, if_match, serializer=TagSerializer)
        _retag_sessions(user, gone=tag.pk, into=None)
        for goal in Goal.objects.filter(user=user, tag=tag):
            _goal_gone(user, goal)
        _tag_gone(user, tag, seq=seq)


def tag_merge(*, user: User, tag_id: int, into_id: int, if_match: str | None = None) -> Tag:
    """Merge a tag into another: every session of the merged tag carries `into` (once), its
    goals move to `into` unless `into` has one for that period (then they are deleted), and
    the merged tag is deleted. Returns `into`."""
    with transaction.atomic():
        seq = sync_seq_next(user=user, refresh=("timezone",))
        tag = tag_owned(user=user, tag_id=tag_id)
        if_match_check(tag, if_match, serializer=TagSerializer)
        if into_id == tag.pk:
            raise exceptions.ValidationError({"into": ["A tag cannot be merged into itself."]})
        into = Tag.objects.filter(user=user, pk=into_id).first()
        if into is None:
            raise exceptions.ValidationError({"into": ["No such tag among yours."]})
        _retag_sessions(user, gone=tag.pk, into=into.pk)
        taken = set(Goal.objects.filter(user=user, tag=into).values_list("period", flat=True))
        for goal in Goal.objects.filter(user=user, tag=tag).order_by("id"):
            if goal.period in taken:
                _goal_gone(user, goal)
                continue
            goal.tag = into
            goal.version += 1
            goal.sync_seq = sync_seqs_take(user=user, count=1)
            goal.updated_at = timezone.now()
            goal.save(update_fields=["tag", "version", "sync_seq", "updated_at"])
        _tag_gone(user, tag, seq=seq, into=into.pk)
    return into
