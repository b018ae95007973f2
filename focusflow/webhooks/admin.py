from django.contrib import admin

from focusflow.admin.lists import ReadOnlyAdmin, UserEmailFilter, email_cell
from focusflow.core.display import excerpt
from focusflow.webhooks.models import Webhook


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    """Each account's webhooks, to read (they change through the API): where they point, and
    whether they work. Never their secret; each delivery is in its owner's log
    (`GET /api/webhooks/<id>/deliveries/`), and docs/operations.md has the queries ops watch."""

    list_display = ("url_excerpt", "account", "status", "disabled_reason")
    list_filter = ("status", "disabled_reason", UserEmailFilter)
    search_fields = ("user__email", "url")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    fields = (
        "user",
        "url",
        "events",
        "description",
        "status",
        "disabled_reason",
        "failing_since",
        "validated_url",
        "created_at",
        "updated_at",
    )

    @admin.display(description="url", ordering="url")
    def url_excerpt(self, webhook: Webhook) -> str:
        return excerpt(webhook.url, 40)

    @admin.display(description="user", ordering="user__email")
    def account(self, webhook: Webhook) -> str:
        return email_cell(webhook.user.email)
