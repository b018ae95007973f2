from django.apps import AppConfig


class FocusSessionsConfig(AppConfig):
    name = "focus_sessions"
    verbose_name = "Focus sessions"

    def ready(self) -> None:
        from focus_sessions.selectors import focus_sessions_export
        from focusflow.export import register_export_section

        register_export_section("focus_sessions", focus_sessions_export)
