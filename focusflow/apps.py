from django.apps import AppConfig


class FocusflowConfig(AppConfig):
    """The project package is an app too: it owns the cross-app idempotency records."""

    name = "focusflow"
    verbose_name = "Platform"
