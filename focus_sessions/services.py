"""Focus session rules: start, stop, pause, resume. Each is one short transaction."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status

from focus_sessions.models import FocusSession
from focusflow.exceptions import DomainError


class SessionAlreadyActive(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A focus session is already running; stop it before starting another."
    default_code = "session_already_active"

    def __init__(self, *, session: FocusSession | None) -> None:
        super().__init__()
        self.session = session


class NoActiveSession(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "There is no active focus session."
    default_code = "no_active_session"


class SessionAlreadyPaused(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The focus session is already paused."
    default_code = "session_already_paused"


class SessionNotPaused(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The focus session is not paused."
    default_code = "session_not_paused"


START_ATTEMPTS = 3


def _clock(session: FocusSession | None = None) -> datetime:
    """The server clock, never before the session's start (app servers' clocks may differ by
    a few milliseconds, and the database refuses an end before the start)."""
    now = timezone.now()
    if session is not None and now < session.start_time:
        return session.start_time
    return now


def focus_session_active(*, user) -> FocusSession | None:
    return FocusSession.objects.filter(user=user, is_active=True).first()


def focus_session_start(*, user, planned_minutes: int | None = None, label: str = "") -> FocusSession:
    """Start a session now. The database's partial unique index decides races: of two
    concurrent starts (two phones, two app servers) one wins and the other gets
    SessionAlreadyActive carrying the winner's session. If the winner was stopped before the
    loser could read it, the loser simply tries again."""
    for _ in range(START_ATTEMPTS):
        try:
            with transaction.atomic():
                return FocusSession.objects.create(
                    user=user, start_time=_clock(), planned_minutes=planned_minutes, label=label
                )
        except IntegrityError:
            active = focus_session_active(user=user)
            if active is not None:
                raise SessionAlreadyActive(session=active) from None
            if not type(user).objects.filter(pk=user.pk).exists():  # deleted meanwhile
                raise exceptions.AuthenticationFailed("User not found", code="user_not_found") from None
    raise SessionAlreadyActive(session=focus_session_active(user=user))


def _locked_active(user) -> FocusSession:
    session = FocusSession.objects.select_for_update().filter(user=user, is_active=True).first()
    if session is None:
        raise NoActiveSession()
    return session


def _close_pause(session: FocusSession, *, at: datetime) -> None:
    if session.paused_at is not None:
        session.paused_duration += max(at - session.paused_at, timedelta(0))
        session.paused_at = None


def focus_session_stop(*, user) -> FocusSession:
    """Stop the active session exactly once; an open pause closes at the stop time."""
    with transaction.atomic():
        session = _locked_active(user)
        now = _clock(session)
        _close_pause(session, at=now)
        session.end_time = now
        session.is_active = False
        session.focus_seconds = session.focus_duration_seconds(now=now)
        session.save(update_fields=["end_time", "is_active", "paused_at", "paused_duration", "focus_seconds"])
    return session


def focus_session_pause(*, user) -> FocusSession:
    with transaction.atomic():
        session = _locked_active(user)
        if session.is_paused:
            raise SessionAlreadyPaused()
        session.paused_at = _clock(session)
        session.save(update_fields=["paused_at"])
    return session


def focus_session_resume(*, user) -> FocusSession:
    with transaction.atomic():
        session = _locked_active(user)
        if not session.is_paused:
            raise SessionNotPaused()
        _close_pause(session, at=_clock(session))
        session.save(update_fields=["paused_at", "paused_duration"])
    return session
