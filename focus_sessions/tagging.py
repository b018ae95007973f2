"""Tags on sessions: which ids a session may carry, and writing them.

A session's tags live twice, written together here and nowhere else: the `SessionTag` rows,
on which the database holds that each tag exists and is the session owner's (so no write,
racing or not, can leave a deleted tag on a session), and the session's sorted `tag_ids`,
which every read shows without a join. Callers hold the user's row lock
(`focusflow.sync.feed.sync_seq_next`), which tag deletions and merges take too.
"""

from rest_framework import exceptions

from focus_sessions.models import SESSION_MAX_TAGS, DeletedTag, FocusSession, SessionTag, Tag
from users.models import User


def tags_merged_into(*, user: User, tag_ids: list[int]) -> dict[int, int | None]:
    """Of `tag_ids`, those the user deleted: each with the live tag it was merged into, or
    None (deleted, or merged into a tag deleted since)."""
    return dict(DeletedTag.objects.filter(user=user, tag_id__in=tag_ids).values_list("tag_id", "merged_into"))


def tag_resolve(*, user: User, tag: int) -> int:
    """The tag a `tag` field (a goal's, a `?tag=` filter's) means: one of the user's tags, or
    the tag one they merged away went into (the sending device did not know yet); anything
    else is a 400 on `tag`."""
    if Tag.objects.filter(user=user, pk=tag).exists():
        return tag
    into = tags_merged_into(user=user, tag_ids=[tag]).get(tag)
    if into is None:
        raise exceptions.ValidationError({"tag": ["No such tag among yours."]})
    return into


def session_tags_resolve(*, user: User, tag_ids: list[int] | None) -> list[int] | None:
    """The tags a session sent with `tag_ids` gets, sorted: duplicates once, a tag the user
    merged away replaced by the tag it went into, one the user deleted dropped (the sending
    device did not know yet); an id that never was one of the user's tags is a 400 on `tags`,
    and so are more than SESSION_MAX_TAGS. None stays None (no change asked)."""
    if tag_ids is None:
        return None
    wanted = set(tag_ids)
    if not wanted:
        return []
    kept = set(Tag.objects.filter(user=user, pk__in=wanted).values_list("pk", flat=True))
    if missing := wanted - kept:
        gone = tags_merged_into(user=user, tag_ids=list(missing))
        if unknown := sorted(missing - gone.keys()):
            raise exceptions.ValidationError(
                {"tags": [f"No such tag among yours: {', '.join(map(str, unknown))}."]}
            )
        kept |= {into for into in gone.values() if into is not None}
    if len(kept) > SESSION_MAX_TAGS:
        raise exceptions.ValidationError({"tags": [f"At most {SESSION_MAX_TAGS} tags on a session."]})
    return sorted(kept)


def session_tags_write(session: FocusSession, *, tags: list[int], before: list[int]) -> None:
    """Give a saved session `tags` (sorted) where it had `before`: its rows and its
    `tag_ids` (the caller saves `tag_ids` with the session's other changes)."""
    removed = [tag for tag in before if tag not in tags]
    added = [tag for tag in tags if tag not in before]
    if removed:
        SessionTag.objects.filter(session=session, tag_id__in=removed).delete()
    if added:
        SessionTag.objects.bulk_create(
            [SessionTag(user_id=session.user_id, session=session, tag_id=tag) for tag in added]
        )
    session.tag_ids = list(tags)
