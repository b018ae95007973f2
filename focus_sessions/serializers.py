from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from focus_sessions.models import MAX_AHEAD, MAX_LATE, MAX_LENGTH, FocusSession
from focusflow.api.fields import ClientIdField, OffsetDateTimeField, instant
from focusflow.api.query_params import LocalDateRangeQuerySerializer, QueryIntegerField
from focusflow.core.display import duration_text


class FocusSessionSerializer(serializers.ModelSerializer):
    """A session as clients see it. `server_now` is the clock every duration is computed at,
    so every device draws the same running timer.

    The fields below describe the session (for the schema); the representation is written
    out by hand, because building a ModelSerializer's fields on every read cost more than the
    rest of the request (tests pin it equal to DRF's own)."""

    is_paused = serializers.BooleanField(read_only=True)
    paused_seconds = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()
    server_now = serializers.SerializerMethodField()

    class Meta:
        model = FocusSession
        fields = [
            "id",
            "start_time",
            "end_time",
            "is_active",
            "created_at",
            "is_paused",
            "paused_seconds",
            "duration_seconds",
            "planned_minutes",
            "label",
            "server_now",
            "version",
            "updated_at",
            "client_id",
        ]
        read_only_fields = fields

    def _now(self):
        # One instant per response, shared by every session in it.
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def get_paused_seconds(self, session: FocusSession) -> int:
        """Total time spent paused, including a pause in progress."""
        at = session.end_time or self._now()
        return int(session.paused_total(now=at).total_seconds())

    def get_duration_seconds(self, session: FocusSession) -> int:
        """Whole seconds of focus: end (or now while active) minus start minus paused time."""
        return session.focus_duration_seconds(now=self._now())

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_server_now(self, session: FocusSession) -> str:
        if "now_text" not in self.context:  # formatted once for every session of a response
            self.context["now_text"] = instant(self._now())
        return self.context["now_text"]

    def to_representation(self, session: FocusSession) -> dict:
        return {
            "id": session.pk,
            "start_time": instant(session.start_time),
            "end_time": instant(session.end_time),
            "is_active": session.is_active,
            "created_at": instant(session.created_at),
            "is_paused": session.is_paused,
            "paused_seconds": self.get_paused_seconds(session),
            "duration_seconds": self.get_duration_seconds(session),
            "planned_minutes": session.planned_minutes,
            "label": session.label,
            "server_now": self.get_server_now(session),
            "version": session.version,
            "updated_at": instant(session.updated_at),
            "client_id": str(session.client_id) if session.client_id is not None else None,
        }


AT_HELP = (
    "When the device did it (ISO 8601 with offset), for an action sent late; default: the server's "
    f"clock. At most {duration_text(MAX_LATE)} ago and {duration_text(MAX_AHEAD)} ahead, and never "
    "before the session's previous event."
)
CLIENT_ID_HELP = (
    "A UUID the device made when the user acted, unique per user: sending it again with the same "
    "fields returns the stored session (200) and changes nothing; with other fields, a 409 "
    "`client_id_conflict`."
)


class StartSerializer(serializers.ModelSerializer):
    """What a start may say about the session; ranges and lengths come from the model."""

    at = OffsetDateTimeField(required=False, help_text=AT_HELP)
    client_id = ClientIdField(help_text=CLIENT_ID_HELP)

    class Meta:
        model = FocusSession
        fields = ["planned_minutes", "label", "at", "client_id"]


class ActionSerializer(serializers.Serializer):
    """stop, pause and resume: an optional `at`."""

    at = OffsetDateTimeField(required=False, help_text=AT_HELP)


class LogSerializer(serializers.ModelSerializer):
    """A finished session timed on the device."""

    start_time = OffsetDateTimeField()
    end_time = OffsetDateTimeField(
        help_text=f"After start_time, at most {duration_text(MAX_LENGTH)} later, not over "
        f"{duration_text(MAX_AHEAD)} ahead."
    )
    paused_seconds = serializers.IntegerField(
        min_value=0, required=False, default=0, help_text="Whole seconds paused, shorter than the session."
    )
    client_id = ClientIdField(help_text=CLIENT_ID_HELP)

    class Meta:
        model = FocusSession
        fields = ["start_time", "end_time", "paused_seconds", "planned_minutes", "label", "client_id"]


class SessionUpdateSerializer(serializers.ModelSerializer):
    """A correction: `label` and `planned_minutes` always; the times only of a stopped session."""

    start_time = OffsetDateTimeField(required=False)
    end_time = OffsetDateTimeField(required=False)
    paused_seconds = serializers.IntegerField(min_value=0, required=False)

    class Meta:
        model = FocusSession
        fields = ["label", "planned_minutes", "start_time", "end_time", "paused_seconds"]
        extra_kwargs = {"label": {"required": False}, "planned_minutes": {"required": False}}


class HistoryQuerySerializer(LocalDateRangeQuerySerializer):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class StatsQuerySerializer(serializers.Serializer):
    days = QueryIntegerField(min_value=1, max_value=366, required=False, default=7)


class DayStatsSerializer(serializers.Serializer):
    date = serializers.DateField()
    sessions = serializers.IntegerField(help_text="Completed sessions that started this local day.")
    focus_seconds = serializers.IntegerField()
    goal_met = serializers.BooleanField(
        help_text="focus_seconds reached daily_goal_minutes; false when no goal is set."
    )


class StatsSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    days = DayStatsSerializer(many=True, help_text="Oldest first, ending today (local).")
    total_focus_seconds = serializers.IntegerField()
    current_streak_days = serializers.IntegerField()
    longest_streak_days = serializers.IntegerField()

    def to_representation(self, stats) -> dict:
        """Written out by hand (up to 366 days a response); tests pin it equal to DRF's own."""
        return {
            "timezone": stats.timezone,
            "days": [
                {
                    "date": day.date.isoformat(),
                    "sessions": day.sessions,
                    "focus_seconds": day.focus_seconds,
                    "goal_met": day.goal_met,
                }
                for day in stats.days
            ],
            "total_focus_seconds": stats.total_focus_seconds,
            "current_streak_days": stats.current_streak_days,
            "longest_streak_days": stats.longest_streak_days,
        }
