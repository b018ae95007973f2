from django.utils import timezone
from rest_framework import serializers

from focus_sessions.models import FocusSession
from focusflow.query import LocalDateRangeQuerySerializer


class FocusSessionSerializer(serializers.ModelSerializer):
    """A session as clients see it. `server_now` is the clock every duration is computed at,
    so every device draws the same running timer."""

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

    def get_server_now(self, session: FocusSession) -> str:
        return serializers.DateTimeField().to_representation(self._now())


class StartSerializer(serializers.Serializer):
    planned_minutes = serializers.IntegerField(min_value=1, max_value=720, required=False, allow_null=True)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ActiveSessionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="`session_already_active`")
    active_session = FocusSessionSerializer()


class HistoryQuerySerializer(LocalDateRangeQuerySerializer):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class StatsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, required=False, default=7)


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
