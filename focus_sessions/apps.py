from django.apps import AppConfig


class FocusSessionsConfig(AppConfig):
    name = "focus_sessions"
    verbose_name = "Focus sessions"

    def ready(self) -> None:
        from focus_sessions.goals import daily_goal_follow
        from focus_sessions.models import FocusSession, Goal, Tag
        from focus_sessions.rollup import recount_days
        from focus_sessions.selectors import focus_sessions_export_rows, goals_export_rows, tags_export_rows
        from focus_sessions.serializers import FocusSessionSerializer, GoalSerializer, TagSerializer
        from focusflow.sync.feed import SyncKind, register_sync_kind
        from users.export_sections import register_export_section
        from users.signals import daily_goal_changed, time_zone_changed

        register_export_section(
            "focus_sessions", rows=focus_sessions_export_rows, serializer=FocusSessionSerializer
        )
        register_export_section("tags", rows=tags_export_rows, serializer=TagSerializer)
        register_export_section("goals", rows=goals_export_rows, serializer=GoalSerializer)
        register_sync_kind(SyncKind(name="session", model=FocusSession, serializer=FocusSessionSerializer))
        register_sync_kind(SyncKind(name="tag", model=Tag, serializer=TagSerializer))
        register_sync_kind(SyncKind(name="goal", model=Goal, serializer=GoalSerializer))
        time_zone_changed.connect(recount_days, dispatch_uid="focus_sessions.rollup")
        daily_goal_changed.connect(daily_goal_follow, dispatch_uid="focus_sessions.goals")
