"""Focus session errors, each carrying what the client needs to recover."""

from typing import Any

from rest_framework import status
from rest_framework.fields import Field

from focus_sessions.models import FocusSession
from focus_sessions.serializers import FocusSessionSerializer, GoalSerializer, TagSerializer
from focusflow.api.exceptions import DomainError


class SessionAlreadyActive(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A focus session is already running; stop it before starting another."
    default_code = "session_already_active"

    def __init__(self, *, session: FocusSession | None) -> None:
        super().__init__()
        self.session = session

    @property
    def data_fields(self) -> dict[str, Any]:
        running = FocusSessionSerializer(self.session).data if self.session is not None else None
        return {"active_session": running}

    @classmethod
    def data_schema(cls, serializer=None) -> dict[str, Field]:
        return {
            "active_session": FocusSessionSerializer(
                allow_null=True, help_text="The running session (null if it ended meanwhile)."
            )
        }


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


class SessionOverlap(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "This would overlap another of your sessions (a running one extends to now and beyond); "
        "it is under `conflicting_session`."
    )
    default_code = "session_overlap"

    def __init__(self, *, conflicting: FocusSession | None) -> None:
        super().__init__()
        self.conflicting = conflicting

    @property
    def data_fields(self) -> dict[str, Any]:
        other = FocusSessionSerializer(self.conflicting).data if self.conflicting is not None else None
        return {"conflicting_session": other}

    @classmethod
    def data_schema(cls, serializer=None) -> dict[str, Field]:
        return {
            "conflicting_session": FocusSessionSerializer(
                allow_null=True, help_text="The session in the way (null if it went meanwhile)."
            )
        }


class SessionHasJournals(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Journals are tied to this session, and they are final: it cannot be deleted."
    default_code = "session_has_journals"


class _Existing(DomainError):
    """A 409 that names the object already there, under `existing`."""

    serializer: type

    def __init__(self, *, existing) -> None:
        super().__init__()
        self.existing = existing

    @property
    def data_fields(self) -> dict[str, Any]:
        return {"existing": self.serializer(self.existing).data if self.existing is not None else None}

    @classmethod
    def data_schema(cls, serializer=None) -> dict[str, Field]:
        return {"existing": cls.serializer(allow_null=True, help_text=cls.existing_help)}


class TagNameTaken(_Existing):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "You already have a tag with this name (names are compared case-folded); it is under `existing`: "
        "use it (a device that made the same tag offline maps its own to it)."
    )
    default_code = "tag_name_taken"
    serializer = TagSerializer
    existing_help = "The tag with that name (null if it went meanwhile)."


class GoalExists(_Existing):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "You already have a goal for this tag and period; it is under `existing`."
    default_code = "goal_exists"
    serializer = GoalSerializer
    existing_help = "The goal for that tag and period (null if it went meanwhile)."
