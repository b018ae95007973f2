"""Focus session rules: start, stop, pause, resume (now or late), log, correct, delete.

Every write is one transaction that first takes the user's next change number
(`focusflow.sync.feed.sync_seq_next`), which locks the user's row: one user's writes run one at a
time, whichever device or app server sends them, and the sync feed sees them in commit order.
The database still holds the invariants on its own (one running session, no overlaps, a
client id names one session); its refusals become the contract's 409s here.
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, QuerySet, RestrictedError
from django.utils import timezone
from rest_framework import exceptions

from focus_sessions.exceptions import (
    NoActiveSession,
    SessionAlreadyActive,
    SessionAlreadyPaused,
    SessionHasJournals,
    SessionNotPaused,
    SessionOverlap,
)
from focus_sessions.models import (
    MAX_AHEAD,
    MAX_LATE,
    MAX_LENGTH,
    NO_OVERLAP,
    ONE_ACTIVE_SESSION,
    FocusSession,
)
from focus_sessions.rollup import rollup_count, rollup_tags_change
from focus_sessions.serializers import FocusSessionSerializer
from focus_sessions.tagging import session_tags_resolve, session_tags_write
from focusflow.api.conditional import if_match_check
from focusflow.core.display import duration_text
from focusflow.db.constraints import violated_constraint
from focusflow.db.rows import first_of
from focusflow.sync.client_ids import client_fingerprint, client_id_retried
from focusflow.sync.feed import sync_seq_next, tombstone_add
from focusflow.webhooks.services import webhook_event
from users.models import User

# App servers' clocks may differ by this much: a start never begins before the session that
# another server stopped a moment ago ended.
CLOCK_TOLERANCE = timedelta(seconds=2)
TIME_FIELDS = ("start_time", "end_time", "paused_seconds")


def _with_tags(fields: dict, tags: list[int] | None) -> dict:
    """A create's fields for its fingerprint: the tags it named, when it named any (so that a
    request without tags keeps the fingerprint it had before sessions had tags)."""
    return fields if tags is None else {**fields, "tags": sorted(set(tags))}


# --- Reads used by the rules ------------------------------------------------------------------


def focus_session_active(*, user: User) -> FocusSession | None:
    """The running session: at most one (the database's partial unique index)."""
    return first_of(FocusSession, user=user.pk, is_active=True)


def sessions_overlapping(
    *, user: User, start: datetime, end: datetime | None, exclude: int | None = None
) -> QuerySet:
    """The user's sessions whose time overlaps [start, end): the rule of the exclusion constraint
    `NO_OVERLAP` (half-open ranges, a running session extends to infinity, an empty range
    overlaps nothing), for naming the session in the way when the database refuses a write."""
    if end is not None and end <= start:
        return FocusSession.objects.none()
    sessions = FocusSession.objects.filter(user=user).exclude(pk=exclude)
    sessions = sessions.filter(Q(end_time__isnull=True) | Q(end_time__gt=start)).exclude(
        end_time=F("start_time")
    )
    if end is not None:
        sessions = sessions.filter(start_time__lt=end)
    return sessions.order_by("start_time", "id")


def _owned(user: User, session_id: int) -> FocusSession:
    session = FocusSession.objects.filter(user=user, pk=session_id).first()
    if session is None:
        raise exceptions.NotFound()
    return session


# --- Writing ------------------------------------------------------------------------------------


def _lock(user: User) -> int:
    """The change number of this write, which locks the account (see module docstring). The
    time zone is read in the same statement: the day a session counts on must be the one of
    the zone in force now, even if another device changed it a moment ago."""
    return sync_seq_next(user=user, refresh=("timezone",))


def _save(session: FocusSession, *, update_fields: list[str] | None = None) -> None:
    if update_fields is None:
        session.save(force_insert=True)
    else:
        session.save(update_fields=[*update_fields, "version", "updated_at", "sync_seq"])


class _Refused:
    """Turns the database's refusal of a session write into the contract's 409. Wraps the
    whole transaction (not a savepoint around the write, which costs two more statements on
    every write): by the time it runs, the failed transaction is rolled back and the
    connection can be asked which session was in the way."""

    def __init__(self, session: FocusSession | None = None) -> None:
        self.session = session

    def __enter__(self) -> "_Refused":
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if not isinstance(exc, IntegrityError) or self.session is None:
            return False
        session, constraint = self.session, violated_constraint(exc)
        if constraint == NO_OVERLAP:
            conflict = sessions_overlapping(
                user=session.user, start=session.start_time, end=session.end_time, exclude=session.pk
            ).first()
            raise SessionOverlap(conflicting=conflict) from None
        if constraint == ONE_ACTIVE_SESSION:
            raise SessionAlreadyActive(session=focus_session_active(user=session.user)) from None
        return False


def _changed(session: FocusSession, *, seq: int, now: datetime) -> None:
    session.version += 1
    session.sync_seq = seq
    session.updated_at = now


def _bad(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


def _check_late(at: datetime, *, now: datetime, field: str = "at") -> None:
    if at > now + MAX_AHEAD:
        raise _bad(field, f"At most {duration_text(MAX_AHEAD)} ahead of the server's clock.")
    if at < now - MAX_LATE:
        raise _bad(field, f"At most {duration_text(MAX_LATE)} ago.")


def _event_time(session: FocusSession, *, at: datetime | None, now: datetime, after: str) -> datetime:
    """When an action on the running session happened: `at` (checked), or the server clock.
    Either way never before the session's last event (its start, pause or resume): with `at`
    that is the client's mistake (a 400), without it clocks of app servers differing a little."""
    last = session.last_event_at or session.start_time
    if at is None:
        return max(now, last)
    _check_late(at, now=now)
    if at < last:
        raise _bad("at", f"Must not be before the {after} ({last.isoformat()}).")
    return at


def _check_span(*, start: datetime, end: datetime, paused_seconds: int, now: datetime) -> None:
    """The rules of a finished session timed on a device, logged or corrected."""
    if end <= start:
        raise _bad("end_time", "Must be after start_time.")
    if end > now + MAX_AHEAD:
        raise _bad("end_time", f"Ends more than {duration_text(MAX_AHEAD)} in the future.")
    if end - start > MAX_LENGTH:
        raise _bad("end_time", f"A session lasts at most {duration_text(MAX_LENGTH)}.")
    if paused_seconds < 0:
        raise _bad("paused_seconds", "Must not be negative.")
    if paused_seconds >= (end - start).total_seconds():
        raise _bad("paused_seconds", "Must be shorter than the session.")


def _replay_or_none(user: User, client_id: UUID | None, fingerprint: str) -> FocusSession | None:
    """A retried create: the session it made, and the transaction that numbered this attempt is
    rolled back, so a retry changes nothing."""
    return client_id_retried(
        FocusSession.objects.filter(user=user),
        user=user,
        kind="session",
        client_id=client_id,
        fingerprint=fingerprint,
        serializer=FocusSessionSerializer,
    )


def focus_session_start(
    *,
    user: User,
    planned_minutes: int | None = None,
    label: str = "",
    at: datetime | None = None,
    client_id: UUID | None = None,
    tags: list[int] | None = None,
) -> tuple[FocusSession, bool]:
    """Start a session now, or at `at` for a start sent late. Returns (session, created): a
    retry of a start with the same client id and fields returns the session it made.
    SessionAlreadyActive (with the running session) when one is running; SessionOverlap when a
    late start falls inside, or before the end of, another session."""
    fingerprint = client_fingerprint(
        "start", _with_tags({"planned_minutes": planned_minutes, "label": label, "at": at}, tags)
    )
    with (refused := _Refused()), transaction.atomic():
        seq = _lock(user)
        if (existing := _replay_or_none(user, client_id, fingerprint)) is not None:
            return existing, False
        tags = session_tags_resolve(user=user, tag_ids=tags) or []
        # The running session, if any, is the latest to start: nothing may begin after it.
        latest = FocusSession.objects.filter(user=user).order_by("-start_time", "-id").first()
        if latest is not None and latest.is_active:
            raise SessionAlreadyActive(session=latest)
        now = timezone.now()
        if at is not None:
            _check_late(at, now=now)
            start = at
        elif latest is not None and now < latest.end_time <= now + CLOCK_TOLERANCE:
            start = latest.end_time
        else:
            start = now
        refused.session = session = FocusSession(
            user=user,
            start_time=start,
            last_event_at=start,
            planned_minutes=planned_minutes,
            label=label,
            client_id=client_id,
            client_fingerprint=fingerprint if client_id else "",
            sync_seq=seq,
            updated_at=now,
            tag_ids=tags,
        )
        _save(session)
        session_tags_write(session, tags=tags, before=[])
        webhook_event(user=user, event="session.started", obj=session)
    return session, True


def _locked_active(user: User, *, if_match: str | None) -> FocusSession:
    """The running session (the user's row lock, taken first, keeps it from changing under us)."""
    session = focus_session_active(user=user)
    if session is None:
        raise NoActiveSession()
    if_match_check(session, if_match, serializer=FocusSessionSerializer)
    return session


def _close_pause(session: FocusSession, *, at: datetime) -> None:
    if session.paused_at is not None:
        session.paused_duration += max(at - session.paused_at, timedelta(0))
        session.paused_at = None


def focus_session_stop(
    *, user: User, at: datetime | None = None, if_match: str | None = None
) -> FocusSession:
    """Stop the running session exactly once, now or at `at`; a pause in progress closes at the
    stop time."""
    with (refused := _Refused()), transaction.atomic():
        seq = _lock(user)
        refused.session = session = _locked_active(user, if_match=if_match)
        now = timezone.now()
        end = _event_time(session, at=at, now=now, after="session's last start, pause or resume")
        _close_pause(session, at=end)
        session.end_time = end
        session.is_active = False
        session.focus_seconds = session.focus_duration_seconds(now=end)
        _changed(session, seq=seq, now=now)
        _save(
            session, update_fields=["end_time", "is_active", "paused_at", "paused_duration", "focus_seconds"]
        )
        rollup_count(session, user=user, sign=1)
        webhook_event(user=user, event="session.stopped", obj=session)
    return session


def focus_session_pause(
    *, user: User, at: datetime | None = None, if_match: str | None = None
) -> FocusSession:
    with (refused := _Refused()), transaction.atomic():
        seq = _lock(user)
        refused.session = session = _locked_active(user, if_match=if_match)
        if session.is_paused:
            raise SessionAlreadyPaused()
        now = timezone.now()
        session.paused_at = session.last_event_at = _event_time(
            session, at=at, now=now, after="session's start or last resume"
        )
        _changed(session, seq=seq, now=now)
        _save(session, update_fields=["paused_at", "last_event_at"])
        webhook_event(user=user, event="session.paused", obj=session)
    return session


def focus_session_resume(
    *, user: User, at: datetime | None = None, if_match: str | None = None
) -> FocusSession:
    with (refused := _Refused()), transaction.atomic():
        seq = _lock(user)
        refused.session = session = _locked_active(user, if_match=if_match)
        if not session.is_paused:
            raise SessionNotPaused()
        now = timezone.now()
        resumed = _event_time(session, at=at, now=now, after="pause it ends")
        _close_pause(session, at=resumed)
        session.last_event_at = resumed
        _changed(session, seq=seq, now=now)
        _save(session, update_fields=["paused_at", "paused_duration", "last_event_at"])
        webhook_event(user=user, event="session.resumed", obj=session)
    return session


def focus_session_log(
    *,
    user: User,
    start_time: datetime,
    end_time: datetime,
    paused_seconds: int = 0,
    planned_minutes: int | None = None,
    label: str = "",
    client_id: UUID | None = None,
    tags: list[int] | None = None,
) -> tuple[FocusSession, bool]:
    """Record a finished session timed on a device (offline, or added afterwards). Returns
    (session, created), as a start does for a retried client id."""
    fields = {
        "start_time": start_time,
        "end_time": end_time,
        "paused_seconds": paused_seconds,
        "planned_minutes": planned_minutes,
        "label": label,
    }
    fingerprint = client_fingerprint("log", _with_tags(fields, tags))
    with (refused := _Refused()), transaction.atomic():
        seq = _lock(user)
        if (existing := _replay_or_none(user, client_id, fingerprint)) is not None:
            return existing, False
        now = timezone.now()
        _check_span(start=start_time, end=end_time, paused_seconds=paused_seconds, now=now)
        tags = session_tags_resolve(user=user, tag_ids=tags) or []
        refused.session = session = FocusSession(
            user=user,
            is_active=False,
            client_id=client_id,
            client_fingerprint=fingerprint if client_id else "",
            planned_minutes=planned_minutes,
            label=label,
            sync_seq=seq,
            updated_at=now,
            tag_ids=tags,
        )
        _set_span(session, start=start_time, end=end_time, paused_seconds=paused_seconds)
        _save(session)
        session_tags_write(session, tags=tags, before=[])
        rollup_count(session, user=user, sign=1)
        webhook_event(user=user, event="session.logged", obj=session)
    return session, True


def _set_span(session: FocusSession, *, start: datetime, end: datetime, paused_seconds: int) -> None:
    session.start_time, session.end_time = start, end
    session.last_event_at = start
    session.paused_duration = timedelta(seconds=paused_seconds)
    session.focus_seconds = None  # computed afresh from the new span, then frozen
    session.focus_seconds = session.focus_duration_seconds(now=end)


def _as_counted(session: FocusSession, *, tag_ids: list[int]) -> FocusSession:
    """The session with the tags it was counted with (its span is still the old one)."""
    counted = FocusSession(
        user_id=session.user_id,
        start_time=session.start_time,
        end_time=session.end_time,
        focus_seconds=session.focus_seconds,
        tag_ids=tag_ids,
    )
    return counted


def focus_session_update(
    *, user: User, session_id: int, if_match: str | None = None, **changes
) -> FocusSession:
    """Correct a session: `label`, `planned_minutes` and `tags` always; the times of a stopped
    session (the rules of a logged one). A change that changes nothing is no change (same
    version)."""
    with (refused := _Refused()), transaction.atomic():
        seq = _lock(user)
        refused.session = session = _owned(user, session_id)
        if_match_check(session, if_match, serializer=FocusSessionSerializer)
        times = [name for name in TIME_FIELDS if name in changes]
        if times and session.is_active:
            raise exceptions.ValidationError(
                {name: ["The session is running: stop it before changing its times."] for name in times}
            )
        fields = [
            name
            for name in ("label", "planned_minutes")
            if name in changes and changes[name] != getattr(session, name)
        ]
        for name in fields:
            setattr(session, name, changes[name])
        before = list(session.tag_ids)
        tags = session_tags_resolve(user=user, tag_ids=changes.get("tags"))
        if tags is not None and tags != before:
            session_tags_write(session, tags=tags, before=before)
            fields.append("tag_ids")
        if times:
            stored = (session.start_time, session.end_time, int(session.paused_duration.total_seconds()))
            start = changes.get("start_time", stored[0])
            end = changes.get("end_time", stored[1])
            paused = changes.get("paused_seconds", stored[2])
            if (start, end, paused) != stored:
                _check_span(start=start, end=end, paused_seconds=paused, now=timezone.now())
                # As it was (its old tags too); counted again as it is below.
                rollup_count(_as_counted(session, tag_ids=before), user=user, sign=-1)
                _set_span(session, start=start, end=end, paused_seconds=paused)
                fields += ["start_time", "end_time", "last_event_at", "paused_duration", "focus_seconds"]
        if not fields:
            transaction.set_rollback(True)  # nothing changed: the change number is given back
            return session
        _changed(session, seq=seq, now=timezone.now())
        _save(session, update_fields=fields)
        if "focus_seconds" in fields:
            rollup_count(session, user=user, sign=1)
        elif "tag_ids" in fields:
            rollup_tags_change(session, user=user, before=before)
        webhook_event(user=user, event="session.updated", obj=session)
    return session


def focus_session_delete(*, user: User, session_id: int, if_match: str | None = None) -> None:
    """Delete a session, a running one too (started by mistake). Refused while journals are
    tied to it: they are final, and the database would refuse anyway."""
    with transaction.atomic():
        seq = _lock(user)
        session = _owned(user, session_id)
        if_match_check(session, if_match, serializer=FocusSessionSerializer)
        try:
            session.delete()  # the collector refuses before it deletes anything
        except (RestrictedError, ProtectedError):
            raise SessionHasJournals() from None
        rollup_count(session, user=user, sign=-1)
        tombstone_add(user=user, kind="session", object_id=session_id, seq=seq, client_id=session.client_id)
        webhook_event(user=user, event="session.deleted", object_id=session_id)
