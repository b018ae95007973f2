from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from focus_sessions import selectors, services
from focus_sessions.serializers import (
    ActiveSessionConflictSerializer,
    FocusSessionSerializer,
    HistoryQuerySerializer,
    StartSerializer,
    StatsQuerySerializer,
    StatsSerializer,
)
from focusflow.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from focusflow.pagination import CursorPagination
from focusflow.schema import UNAUTHORIZED, error, validation_error

NO_ACTIVE = error("No active session (`code`: `no_active_session`).")
KEY_REUSED = error("The Idempotency-Key was used for a different request (`idempotency_key_reused`).")


def _session_response(session, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(FocusSessionSerializer(session).data, status=status_code)


class StartView(APIView):
    @extend_schema(
        summary="Start a focus session",
        description="`start_time` is the server's clock. At most one active session per user.",
        request=StartSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: FocusSessionSerializer,
            400: validation_error(
                "`planned_minutes` not 1-720, or `label` over 100 characters; or an invalid "
                "`Idempotency-Key` (`invalid_idempotency_key`)."
            ),
            401: UNAUTHORIZED,
            409: OpenApiResponse(
                ActiveSessionConflictSerializer,
                description="A session is already running (`session_already_active`); it is "
                "returned under `active_session`.",
            ),
            422: KEY_REUSED,
        },
    )
    @idempotent
    def post(self, request):
        serializer = StartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            session = services.focus_session_start(user=request.user, **serializer.validated_data)
        except services.SessionAlreadyActive as exc:
            running = FocusSessionSerializer(exc.session).data if exc.session else None
            exc.extra = {"active_session": running}
            raise
        return _session_response(session, status_code=status.HTTP_201_CREATED)


def _action_schema(summary: str, description: str, conflict: str | None = None):
    responses = {
        200: FocusSessionSerializer,
        400: error("Invalid `Idempotency-Key` header (`invalid_idempotency_key`)."),
        401: UNAUTHORIZED,
        404: NO_ACTIVE,
        422: KEY_REUSED,
    }
    if conflict:
        responses[409] = error(conflict)
    return extend_schema(
        summary=summary,
        description=description,
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses=responses,
    )


class StopView(APIView):
    @_action_schema(
        "Stop the active session",
        "`end_time` is the server's clock; a pause in progress closes at the stop time.",
    )
    @idempotent
    def post(self, request):
        return _session_response(services.focus_session_stop(user=request.user))


class PauseView(APIView):
    @_action_schema(
        "Pause the active session",
        "Paused time does not count towards `duration_seconds`.",
        conflict="Already paused (`session_already_paused`).",
    )
    @idempotent
    def post(self, request):
        return _session_response(services.focus_session_pause(user=request.user))


class ResumeView(APIView):
    @_action_schema(
        "Resume the paused session",
        "The pause's length is added to `paused_seconds`.",
        conflict="Not paused (`session_not_paused`).",
    )
    @idempotent
    def post(self, request):
        return _session_response(services.focus_session_resume(user=request.user))


class ActiveView(APIView):
    @extend_schema(
        summary="The active session",
        responses={200: FocusSessionSerializer, 401: UNAUTHORIZED, 404: NO_ACTIVE},
    )
    def get(self, request):
        session = services.focus_session_active(user=request.user)
        if session is None:
            raise services.NoActiveSession()
        return _session_response(session)


class HistoryPagination(CursorPagination):
    ordering = ("-start_time", "-id")


class HistoryView(generics.ListAPIView):
    serializer_class = FocusSessionSerializer
    pagination_class = HistoryPagination

    @extend_schema(
        summary="Session history",
        description="The caller's sessions, newest `start_time` first. `from`/`to` are days on "
        "the user's own calendar (their `timezone`), inclusive, matched against `start_time`.",
        parameters=[HistoryQuerySerializer],
        responses={200: FocusSessionSerializer(many=True), 400: validation_error(), 401: UNAUTHORIZED},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = HistoryQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.focus_session_history(
            user=self.request.user,
            first=query.validated_data.get("from"),
            last=query.validated_data.get("to"),
            is_active=query.validated_data["is_active"],
        )


class StatsView(APIView):
    @extend_schema(
        summary="Focus statistics",
        description="Per local day for the last `days` days (oldest first, today last): completed "
        "sessions, focus seconds and whether the daily goal was met. A session counts on the local "
        "day it started, so one that runs past midnight counts wholly on the day it began. A streak "
        "day has at least one completed session; the current streak ends today, or yesterday while "
        "today has none yet. Streaks cover the whole history, not just the window.",
        parameters=[StatsQuerySerializer],
        responses={200: StatsSerializer, 400: validation_error(), 401: UNAUTHORIZED},
    )
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stats = selectors.focus_session_stats(
            user=request.user, days=query.validated_data["days"], now=timezone.now()
        )
        return Response(StatsSerializer(stats).data)
