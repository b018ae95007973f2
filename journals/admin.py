from django.contrib import admin, messages

from journals.models import Journal


@admin.register(Journal)
class JournalAdmin(admin.ModelAdmin):
    """Tied journals are final here too: shown read-only, never deleted one by one or in bulk."""

    list_display = ("id", "user", "session", "created_at", "excerpt", "editable")
    list_filter = (("session", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("content", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = ("user", "session", "created_at", "updated_at")
    fields = ("user", "session", "content", "created_at", "updated_at")
    actions = ["delete_free_journals"]

    @admin.display(description="content")
    def excerpt(self, journal: Journal) -> str:
        return journal.content if len(journal.content) <= 80 else journal.content[:79] + "…"

    @admin.display(boolean=True)
    def editable(self, journal: Journal) -> bool:
        return journal.editable

    def has_add_permission(self, request) -> bool:
        return False  # journals are their authors' words

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.editable)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.editable)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete tied journals too
        return actions

    @admin.action(
        description="Delete selected journals that are not tied to a session", permissions=["delete"]
    )
    def delete_free_journals(self, request, queryset):
        tied = queryset.filter(session__isnull=False).count()
        deleted, _ = queryset.filter(session__isnull=True).delete()
        self.message_user(
            request, f"Deleted {deleted} journal(s); kept {tied} tied to a session.", messages.SUCCESS
        )
