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


def session_tags_resolve(*, user: User, tag_ids: list[int] | None) -> list[int] | None:
    """The tags a session sent with `tag_ids` gets, sorted: duplicates once, tags the user
    deleted (or merged away) dropped; an id that never was one of the user's tags is a 400 on
    `tags`, and so are more than SESSION_MAX_TAGS. None stays None (no change asked)."""
    if tag_ids is None:
        return None
    wanted = sorted(set(tag_ids))
    if not wanted:
        return []
    live = set(Tag.objects.filter(user=user, pk__in=wanted).values_list("pk", flat=True))
    missing = [tag for tag in wanted if tag not in live]
    if missing:
        deleted = set(
            DeletedTag.objects.filter(user=user, tag_id__in=missing).values_list("tag_id", flat=True)
        )
        if unknown := [tag for tag in missing if tag not in deleted]:
            raise exceptions.ValidationError(
                {"tags": [f"No such tag among yours: {', '.join(map(str, unknown))}."]}
            )
    kept = [tag for tag in wanted if tag in live]
    if len(kept) > SESSION_MAX_TAGS:
        raise exceptions.ValidationError({"tags": [f"At most {SESSION_MAX_TAGS} tags on a session."]})
    return kept


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
