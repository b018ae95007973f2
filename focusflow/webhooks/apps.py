import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("focusflow.webhooks")


class WebhooksConfig(AppConfig):
    """Webhooks: signed POSTs to an integration's address when something happens."""

    name = "focusflow.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
            logger.warning(
                "WEBHOOK_ALLOW_PRIVATE_URLS is on: webhooks may be sent over plain http:// and to "
                "private and loopback addresses. For development and tests only."
            )
