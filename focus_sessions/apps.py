from django.apps import AppConfig


class FocusSessionsConfig(AppConfig):
    name = "focus_sessions"
    verbose_name = "Focus sessions"
