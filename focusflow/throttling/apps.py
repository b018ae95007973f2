from django.apps import AppConfig


class ThrottlingConfig(AppConfig):
    """Rate limits, counted where every worker and app server sees the same count."""

    name = "focusflow.throttling"
    label = "throttling"
    verbose_name = "Rate limits"
