from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Live updates: `GET /api/events/`, the sync feed pushed over Server-Sent Events."""

    name = "focusflow.events"
    label = "events"
    verbose_name = "Live updates"
