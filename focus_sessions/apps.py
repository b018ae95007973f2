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
        from focusflow.api.scopes import SESSIONS_READ
        from focusflow.sync.feed import SyncKind, register_sync_kind
        from focusflow.webhooks.services import register_webhook_payload
        from users.export_sections import register_export_section
        from users.signals import daily_goal_changed, time_zone_changed

        register_export_section(
            "focus_sessions", rows=focus_sessions_export_rows, serializer=FocusSessionSerializer
        )
        register_export_section("tags", rows=tags_export_rows, serializer=TagSerializer)
        register_export_section("goals", rows=goals_export_rows, serializer=GoalSerializer)
        register_webhook_payload("session", FocusSessionSerializer)
        for name, model, serializer in (
            ("session", FocusSession, FocusSessionSerializer),
            ("tag", Tag, TagSerializer),
            ("goal", Goal, GoalSerializer),
        ):
            register_sync_kind(SyncKind(name=name, model=model, serializer=serializer, scope=SESSIONS_READ))
        time_zone_changed.connect(recount_days, dispatch_uid="focus_sessions.rollup")
        daily_goal_changed.connect(daily_goal_follow, dispatch_uid="focus_sessions.goals")
