from django.apps import AppConfig


class JournalsConfig(AppConfig):
    name = "journals"

    def ready(self) -> None:
        from focusflow.api.scopes import JOURNALS_READ
        from focusflow.sync.feed import SyncKind, register_sync_kind
        from focusflow.webhooks.services import register_webhook_payload
        from journals.models import Journal
        from journals.selectors import journals_export_rows
        from journals.serializers import JournalSerializer, JournalWebhookSerializer
        from users.export_sections import register_export_section

        register_export_section("journals", rows=journals_export_rows, serializer=JournalSerializer)
        register_webhook_payload("journal", JournalWebhookSerializer)
        register_sync_kind(
            SyncKind(name="journal", model=Journal, serializer=JournalSerializer, scope=JOURNALS_READ)
        )
