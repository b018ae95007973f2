from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from focus_sessions.models import (
    MAX_AHEAD,
    MAX_LATE,
    MAX_LENGTH,
    SESSION_MAX_TAGS,
    TAG_NAME_MAX_LENGTH,
    FocusSession,
    Goal,
    Tag,
)
from focusflow.api.fields import ClientIdField, FlatListField, OffsetDateTimeField, instant
from focusflow.api.query_params import LocalDateRangeQuerySerializer, QueryIntegerField
from focusflow.api.schema import EnumField
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
    tags = serializers.ListField(
        source="tag_ids",
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The session's tag ids, sorted.",
    )

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
            "tags",
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
            "tags": list(session.tag_ids),
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


# A bigint: ids beyond it name no tag, and are a 400 rather than an error of the database.
ID_MAX = 2**63 - 1
TAGS_HELP = (
    f"Ids of your tags, at most {SESSION_MAX_TAGS} (duplicates count once). A tag you have deleted "
    "is dropped silently (the device may not know yet); an id that never was one of your tags is a 400."
)


def tags_field(**kwargs) -> serializers.ListField:
    return FlatListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        max_length=100,
        help_text=TAGS_HELP,
        **kwargs,
    )


class StartSerializer(serializers.ModelSerializer):
    """What a start may say about the session; ranges and lengths come from the model."""

    at = OffsetDateTimeField(required=False, help_text=AT_HELP)
    client_id = ClientIdField(help_text=CLIENT_ID_HELP)
    tags = tags_field(required=False)

    class Meta:
        model = FocusSession
        fields = ["planned_minutes", "label", "tags", "at", "client_id"]


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
    tags = tags_field(required=False)

    class Meta:
        model = FocusSession
        fields = ["start_time", "end_time", "paused_seconds", "planned_minutes", "label", "tags", "client_id"]


class SessionUpdateSerializer(serializers.ModelSerializer):
    """A correction: `label` and `planned_minutes` always; the times only of a stopped session."""

    start_time = OffsetDateTimeField(required=False)
    end_time = OffsetDateTimeField(required=False)
    paused_seconds = serializers.IntegerField(min_value=0, required=False)
    tags = tags_field(required=False)

    class Meta:
        model = FocusSession
        fields = ["label", "planned_minutes", "tags", "start_time", "end_time", "paused_seconds"]
        extra_kwargs = {"label": {"required": False}, "planned_minutes": {"required": False}}


def tag_query_field() -> QueryIntegerField:
    return QueryIntegerField(
        required=False,
        min_value=1,
        max_value=ID_MAX,
        help_text="Only sessions with this tag (its id; a tag merged away means the tag it went into); "
        "not one of your tags: 400.",
    )


class HistoryQuerySerializer(LocalDateRangeQuerySerializer):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    tag = tag_query_field()


class StatsQuerySerializer(serializers.Serializer):
    days = QueryIntegerField(min_value=1, max_value=366, required=False, default=7)
    tag = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=ID_MAX,
        help_text="Count only sessions with this tag (every figure: days, totals, streaks, `by_tag`, "
        "`goals`; a tag merged away means the tag it went into); not one of your tags: 400.",
    )


class DayStatsSerializer(serializers.Serializer):
    date = serializers.DateField()
    sessions = serializers.IntegerField(help_text="Completed sessions that started this local day.")
    focus_seconds = serializers.IntegerField()
    goal_met = serializers.BooleanField(
        help_text="focus_seconds reached daily_goal_minutes; false when no goal is set."
    )
    goals_met = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the `day` goals met this day (a tag's goal by that tag's focus), ascending.",
    )


class TagStatsSerializer(serializers.Serializer):
    tag = serializers.IntegerField(allow_null=True, help_text="A tag's id; null: sessions without tags.")
    sessions = serializers.IntegerField()
    focus_seconds = serializers.IntegerField()


class GoalProgressSerializer(serializers.Serializer):
    goal = serializers.IntegerField(help_text="The goal's id.")
    period_start = serializers.DateField(
        help_text="The current period's first local day (a Monday for a week)."
    )
    focus_seconds = serializers.IntegerField(help_text="Focus so far in the current period.")
    met = serializers.BooleanField(help_text="focus_seconds reached target_minutes.")


class StatsSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    days = DayStatsSerializer(many=True, help_text="Oldest first, ending today (local).")
    total_focus_seconds = serializers.IntegerField()
    current_streak_days = serializers.IntegerField()
    longest_streak_days = serializers.IntegerField()
    by_tag = TagStatsSerializer(
        many=True,
        help_text="Focus per tag over the `days` window, by focus_seconds descending (then tag id, "
        "untagged last among equals); a session with two tags counts under both; `tag: null` is the "
        "untagged focus (there whenever the window has any).",
    )
    goals = GoalProgressSerializer(
        many=True, help_text="Each of your goals in its current period (today, or this Monday-Sunday week)."
    )

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
                    "goals_met": day.goals_met,
                }
                for day in stats.days
            ],
            "total_focus_seconds": stats.total_focus_seconds,
            "current_streak_days": stats.current_streak_days,
            "longest_streak_days": stats.longest_streak_days,
            "by_tag": [
                {"tag": entry.tag, "sessions": entry.sessions, "focus_seconds": entry.focus_seconds}
                for entry in stats.by_tag
            ],
            "goals": [
                {
                    "goal": entry.goal,
                    "period_start": entry.period_start.isoformat(),
                    "focus_seconds": entry.focus_seconds,
                    "met": entry.met,
                }
                for entry in stats.goals
            ],
        }


# --- Tags and goals ------------------------------------------------------------------------------

COLOR_HELP = "`#rrggbb` (stored in lower case), or null."
TAG_CLIENT_ID_HELP = (
    "A UUID the device made when the user made the tag, unique per user: sending it again with the "
    "same fields returns the stored tag (200) and changes nothing; with other fields, a 409 "
    "`client_id_conflict`; once the tag is deleted, a 410 `client_id_deleted`."
)


class ColorField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(r"^#[0-9a-fA-F]{6}$", help_text=COLOR_HELP, **kwargs)
        self.error_messages["invalid"] = "A colour is `#rrggbb`, e.g. #1e90ff."

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return value.lower() if value is not None else None


def tag_name_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=TAG_NAME_MAX_LENGTH,
        help_text=f"1-{TAG_NAME_MAX_LENGTH} characters after trimming; unique among your tags (archived "
        "ones included), whatever the case.",
        **kwargs,
    )


class TagSerializer(serializers.ModelSerializer):
    """A tag as clients see it."""

    color = serializers.CharField(allow_null=True, help_text=COLOR_HELP)
    archived = serializers.BooleanField(help_text="Hidden from pickers; kept in history and stats.")

    class Meta:
        model = Tag
        fields = ["id", "name", "color", "archived", "client_id", "version", "created_at", "updated_at"]
        read_only_fields = fields

    def to_representation(self, tag: Tag) -> dict:
        return {
            "id": tag.pk,
            "name": tag.name,
            "color": tag.color,
            "archived": tag.archived,
            "client_id": str(tag.client_id) if tag.client_id is not None else None,
            "version": tag.version,
            "created_at": instant(tag.created_at),
            "updated_at": instant(tag.updated_at),
        }


class TagCreateSerializer(serializers.Serializer):
    name = tag_name_field()
    color = ColorField(required=False, allow_null=True)
    client_id = ClientIdField(help_text=TAG_CLIENT_ID_HELP)


class TagUpdateSerializer(serializers.Serializer):
    name = tag_name_field(required=False)
    color = ColorField(required=False, allow_null=True)
    archived = serializers.BooleanField(required=False)


class TagMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="The id of another of your tags (it may be archived)."
    )


class TagListQuerySerializer(serializers.Serializer):
    archived = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only archived (true) or active (false) tags.",
    )


class GoalSerializer(serializers.ModelSerializer):
    """A goal as clients see it."""

    tag = serializers.IntegerField(
        source="tag_id", allow_null=True, help_text="A tag's id, or null: all focus."
    )
    period = EnumField(
        values=Goal.Period.values, help_text="`day`, or `week`: Monday to Sunday in your zone."
    )

    class Meta:
        model = Goal
        fields = [
            "id",
            "tag",
            "period",
            "target_minutes",
            "client_id",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, goal: Goal) -> dict:
        return {
            "id": goal.pk,
            "tag": goal.tag_id,
            "period": goal.period,
            "target_minutes": goal.target_minutes,
            "client_id": str(goal.client_id) if goal.client_id is not None else None,
            "version": goal.version,
            "created_at": instant(goal.created_at),
            "updated_at": instant(goal.updated_at),
        }


TARGET_HELP = (
    "Minutes of focus per period: 1-1,440 for a day, 1-10,080 for a week. The goal with no tag and "
    "period `day` is the profile's `daily_goal_minutes`: setting one sets the other."
)


class GoalCreateSerializer(serializers.Serializer):
    tag = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, allow_null=True, help_text="One of your tags' id, or null: all focus."
    )
    period = serializers.ChoiceField(choices=Goal.Period.choices)
    target_minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60, help_text=TARGET_HELP)
    client_id = ClientIdField(
        help_text="A UUID the device made, unique per user, with the rules of a tag's `client_id`."
    )


class GoalUpdateSerializer(serializers.Serializer):
    tag = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        allow_null=True,
        required=False,
        help_text="One of your tags' id, or null.",
    )
    period = serializers.ChoiceField(choices=Goal.Period.choices, required=False)
    target_minutes = serializers.IntegerField(
        min_value=1, max_value=7 * 24 * 60, required=False, help_text=TARGET_HELP
    )
