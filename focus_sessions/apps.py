from django.apps import AppConfig


class FocusSessionsConfig(AppConfig):
    name = "focus_sessions"
    verbose_name = "Focus sessions"

    def ready(self) -> None:
        from focus_sessions.models import FocusSession
        from focus_sessions.rollup import recount_days
        from focus_sessions.selectors import focus_sessions_export_rows
        from focus_sessions.serializers import FocusSessionSerializer
        from focusflow.sync.feed import SyncKind, register_sync_kind
        from users.export_sections import register_export_section
        from users.signals import time_zone_changed

        register_export_section(
            "focus_sessions", rows=focus_sessions_export_rows, serializer=FocusSessionSerializer
        )
        register_sync_kind(SyncKind(name="session", model=FocusSession, serializer=FocusSessionSerializer))
        time_zone_changed.connect(recount_days, dispatch_uid="focus_sessions.rollup")
