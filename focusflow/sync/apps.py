from django.apps import AppConfig


class SyncConfig(AppConfig):
    """The change feed (`GET /api/sync/`): tombstones, cursors, and the kinds apps register."""

    name = "focusflow.sync"
    label = "sync"
    verbose_name = "Sync"
