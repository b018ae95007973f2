from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from focus_sessions import selectors, services
from focus_sessions.exceptions import (
    NoActiveSession,
    SessionAlreadyActive,
    SessionAlreadyPaused,
    SessionHasJournals,
    SessionNotPaused,
    SessionOverlap,
)
from focus_sessions.models import LABEL_MAX_LENGTH, PLANNED_MAX_MINUTES, PLANNED_MIN_MINUTES, FocusSession
from focus_sessions.serializers import (
    ActionSerializer,
    FocusSessionSerializer,
    HistoryQuerySerializer,
    LogSerializer,
    SessionUpdateSerializer,
    StartSerializer,
    StatsQuerySerializer,
    StatsSerializer,
)
from focusflow.api.conditional import etag, if_match_check, not_modified
from focusflow.api.exceptions import VersionConflict
from focusflow.api.pagination import CursorPagination
from focusflow.api.schema import (
    ETAG_HEADER,
    IF_MATCH_HEADER,
    IF_NONE_MATCH_HEADER,
    Carrying,
    errors,
    etag_header,
    invalid,
)
from focusflow.api.scopes import SESSIONS_READ, SESSIONS_WRITE
from focusflow.api.viewsets import ID_PATTERN, APIViewSet
from focusflow.idempotency.keys import idempotent
from focusflow.sync.client_ids import ClientIdConflict, ClientIdDeleted

STALE = Carrying(VersionConflict, FocusSessionSerializer)
CLIENT_ID_CONFLICT = Carrying(ClientIdConflict, FocusSessionSerializer)
RETRY = OpenApiResponse(FocusSessionSerializer, description="A retry: the session this `client_id` made.")


class HistoryPagination(CursorPagination):
    ordering = ("-start_time", "-id")


def _state_change_schema(summary: str, description: str, conflict=None):
    """stop, pause and resume: an optional `at`, the active session back."""
    refusals = [conflict] if conflict else []
    responses = {
        200: FocusSessionSerializer,
        **errors(invalid("`at` out of bounds or out of order."), NoActiveSession, *refusals, STALE),
    }
    return extend_schema(
        summary=summary,
        description=description + " `If-Match` applies it only while the running session is at that version.",
        request=ActionSerializer,
        parameters=[IF_MATCH_HEADER, etag_header([200])],
        responses=responses,
    )


class FocusSessionViewSet(APIViewSet):
    """The caller's focus sessions. The seed's paths are actions of this one resource."""

    token_scopes = (SESSIONS_READ, SESSIONS_WRITE)

    serializer_class = FocusSessionSerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return FocusSession.objects.filter(user=self.request.user)

    def _session(self, session: FocusSession, *, status_code: int = status.HTTP_200_OK) -> Response:
        """One session with its version as ETag, for `If-Match` on the next request."""
        return Response(
            FocusSessionSerializer(session).data, status=status_code, headers={"ETag": etag(session)}
        )

    def _precondition(self, request, load) -> None:
        """`If-Match` answers before the body is read (RFC 9110: a stale version is a 412 even
        when the body is wrong too), on the session `load()` finds. The service checks it again
        under the user's lock."""
        header = request.headers.get("If-Match")
        if header is not None and (session := load()) is not None:
            if_match_check(session, header, serializer=FocusSessionSerializer)

    def _at(self, request):
        self._precondition(request, lambda: services.focus_session_active(user=request.user))
        serializer = ActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("at")

    @extend_schema(
        summary="Log a finished session",
        description="A session timed on the device (offline, or forgotten and added later). "
        "`client_id` makes a retried upload safe.",
        request=LogSerializer,
        parameters=[etag_header([200, 201])],
        responses={
            201: FocusSessionSerializer,
            200: RETRY,
            **errors(
                invalid(
                    "Times out of bounds or out of order; `paused_seconds` not shorter than the session."
                ),
                SessionOverlap,
                CLIENT_ID_CONFLICT,
                ClientIdDeleted,
            ),
        },
    )
    def create(self, request):
        serializer = LogSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session, created = services.focus_session_log(user=request.user, **serializer.validated_data)
        return self._session(session, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="A session",
        description="With its version as `ETag`; `If-None-Match` with it answers 304 while unchanged, "
        "`If-Match` with another version a 412 as for a write.",
        responses={
            200: FocusSessionSerializer,
            304: OpenApiResponse(description="Not modified: the `If-None-Match` tag is still current."),
            **errors(exceptions.NotFound, STALE),
        },
        parameters=[IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, ETAG_HEADER],
    )
    def retrieve(self, request, pk: str):
        session = self.get_object()
        return not_modified(session, request, serializer=FocusSessionSerializer) or self._session(session)

    @extend_schema(
        summary="Correct a session",
        description="`label` and `planned_minutes` of any session; `start_time`, `end_time` and "
        "`paused_seconds` of a stopped one, by the rules of a logged session (focus time and stats "
        "follow). With `If-Match`, only while the session is at that version.",
        request=SessionUpdateSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: FocusSessionSerializer,
            **errors(
                invalid("Bad values, or times of a running session (stop it first)."),
                exceptions.NotFound,
                SessionOverlap,
                STALE,
            ),
        },
    )
    def partial_update(self, request, pk: str):
        self._precondition(request, self.get_object)
        serializer = SessionUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        session = services.focus_session_update(
            user=request.user,
            session_id=int(pk),
            if_match=request.headers.get("If-Match"),
            **serializer.validated_data,
        )
        return self._session(session)

    @extend_schema(
        summary="Delete a session",
        description="A running session may be discarded. Refused while journals are tied to it. "
        "With `If-Match`, only while the session is at that version.",
        request=None,
        parameters=[IF_MATCH_HEADER],
        responses={204: None, **errors(exceptions.NotFound, SessionHasJournals, STALE)},
    )
    def destroy(self, request, pk: str):
        services.focus_session_delete(
            user=request.user, session_id=int(pk), if_match=request.headers.get("If-Match")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Start a focus session",
        description="`start_time` is the server's clock, or `at` for a start sent late. At most one "
        "active session per user, and sessions never overlap.",
        request=StartSerializer,
        parameters=[etag_header([200, 201])],
        responses={
            201: FocusSessionSerializer,
            200: RETRY,
            **errors(
                invalid(
                    f"`planned_minutes` not {PLANNED_MIN_MINUTES}-{PLANNED_MAX_MINUTES}, `label` over "
                    f"{LABEL_MAX_LENGTH} characters, `at` out of bounds."
                ),
                SessionAlreadyActive,
                SessionOverlap,
                CLIENT_ID_CONFLICT,
                ClientIdDeleted,
            ),
        },
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def start(self, request):
        serializer = StartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session, created = services.focus_session_start(user=request.user, **serializer.validated_data)
        return self._session(session, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @_state_change_schema(
        "Stop the active session",
        "`end_time` is the server's clock, or `at`; a pause in progress closes at the stop time.",
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def stop(self, request):
        at, if_match = self._at(request), request.headers.get("If-Match")
        return self._session(services.focus_session_stop(user=request.user, at=at, if_match=if_match))

    @_state_change_schema(
        "Pause the active session",
        "Paused time does not count towards `duration_seconds`.",
        conflict=SessionAlreadyPaused,
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def pause(self, request):
        at, if_match = self._at(request), request.headers.get("If-Match")
        return self._session(services.focus_session_pause(user=request.user, at=at, if_match=if_match))

    @_state_change_schema(
        "Resume the paused session",
        "The pause's length is added to `paused_seconds`.",
        conflict=SessionNotPaused,
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def resume(self, request):
        at, if_match = self._at(request), request.headers.get("If-Match")
        return self._session(services.focus_session_resume(user=request.user, at=at, if_match=if_match))

    @extend_schema(
        summary="The active session",
        description="With its version as `ETag`, and the preconditions of `GET` of one session.",
        parameters=[IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: FocusSessionSerializer,
            304: OpenApiResponse(description="Not modified: the `If-None-Match` tag is still current."),
            **errors(NoActiveSession, STALE),
        },
    )
    @action(detail=False, methods=["get"])
    def active(self, request):
        session = services.focus_session_active(user=request.user)
        if session is None:
            raise NoActiveSession()
        return not_modified(session, request, serializer=FocusSessionSerializer) or self._session(session)

    @extend_schema(
        summary="Session history",
        description="The caller's sessions, newest `start_time` first. `from`/`to` are days on "
        "the user's own calendar (their `timezone`), inclusive, matched against `start_time`; `tag` "
        "keeps the sessions with that tag (an id that is not one of your tags matches none).",
        parameters=[HistoryQuerySerializer],
        responses={200: FocusSessionSerializer(many=True), **errors(invalid())},
    )
    @action(detail=False, methods=["get"], pagination_class=HistoryPagination)
    def history(self, request):
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        sessions = selectors.focus_session_history(
            user=request.user,
            first=query.validated_data.get("from"),
            last=query.validated_data.get("to"),
            is_active=query.validated_data["is_active"],
            tag=query.validated_data.get("tag"),
        )
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(FocusSessionSerializer(page, many=True).data)

    @extend_schema(
        summary="Focus statistics",
        description="Per local day for the last `days` days (oldest first, today last): completed "
        "sessions, focus seconds and whether the daily goal was met. A session counts on the local "
        "day it started, so one that runs past midnight counts wholly on the day it began. A streak "
        "day has at least one completed session; the current streak ends today, or yesterday while "
        "today has none yet. Streaks cover the whole history, not just the window. `by_tag` is the "
        "window's focus per tag; `goals` each goal's current period (a week runs Monday to Sunday in "
        "your zone); `days[].goals_met` the `day` goals met that day. With `tag`, every figure counts "
        "only the sessions with that tag (a goal on another tag: the sessions with both).",
        parameters=[StatsQuerySerializer],
        responses={200: StatsSerializer, **errors(invalid())},
    )
    @action(detail=False, methods=["get"])
    def stats(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stats = selectors.focus_session_stats(
            user=request.user,
            days=query.validated_data["days"],
            now=timezone.now(),
            tag=query.validated_data.get("tag"),
        )
        return Response(StatsSerializer(stats).data)
