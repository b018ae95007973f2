from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied

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

    # Deleting a tied journal on its own is refused below, but has_delete_permission stays
    # true for it: Django asks it for every journal of an account an admin deletes, and such
    # an account (spam, an erasure request) must be deletable with everything it owns.
    def delete_view(self, request, object_id, extra_context=None):
        journal = self.get_object(request, unquote(object_id))
        if journal is not None and not journal.editable:
            raise PermissionDenied("A journal tied to a session is final.")
        return super().delete_view(request, object_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        journal = self.get_object(request, unquote(object_id))
        if journal is not None and not journal.editable:
            extra_context = {**(extra_context or {}), "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

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
