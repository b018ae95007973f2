from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from focusflow.admin.lists import UserEmailFilter, YesNoFilter, email_cell
from focusflow.core.display import excerpt
from journals import services
from journals.models import Journal


class TiedFilter(YesNoFilter):
    title = "tied to a session"
    parameter_name = "tied"
    yes = Q(session__isnull=False)


@admin.register(Journal)
class JournalAdmin(admin.ModelAdmin):
    """Tied journals are final here too: shown read-only, never deleted one by one or in bulk."""

    list_display = ("created_at", "account", "content_excerpt", "tied")
    list_filter = (TiedFilter, UserEmailFilter, "created_at")
    search_fields = ("content", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = ("user", "session", "created_at", "updated_at", "version", "client_id")
    fields = ("user", "session", "content", "created_at", "updated_at", "version", "client_id")
    actions = ["delete_free_journals"]

    def get_queryset(self, request):
        # The author, and the session's owner (the same account), name the journal and its
        # session on the change and delete pages.
        return super().get_queryset(request).select_related("user", "session__user")

    @admin.display(description="user", ordering="user__email")
    def account(self, journal: Journal) -> str:
        return email_cell(journal.user.email)

    @admin.display(description="content")
    def content_excerpt(self, journal: Journal) -> str:
        return excerpt(journal.content, 60)

    @admin.display(boolean=True, description="tied to a session")
    def tied(self, journal: Journal) -> bool:
        return journal.session_id is not None

    def has_add_permission(self, request) -> bool:
        return False  # journals are their authors' words

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.editable)

    # Deleting a tied journal on its own is refused below, but has_delete_permission stays
    # true for it: Django asks it for every journal of an account an admin deletes, and such
    # an account (spam, an erasure request) must be deletable with everything it owns.
    def _is_final(self, request, object_id) -> bool:
        journal = self.get_object(request, unquote(object_id))
        return journal is not None and not journal.editable

    def delete_view(self, request, object_id, extra_context=None):
        if self._is_final(request, object_id):
            raise PermissionDenied("A journal tied to a session is final.")
        return super().delete_view(request, object_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self._is_final(request, object_id):
            extra_context = {**(extra_context or {}), "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    # Changes go through the services: numbered for the devices' sync, versioned, and a
    # deletion leaves its tombstone.
    def save_model(self, request, obj, form, change) -> None:
        if "content" in form.changed_data:
            services.journal_update(user=obj.user, journal_id=obj.pk, content=form.cleaned_data["content"])

    def delete_model(self, request, obj) -> None:
        services.journal_delete(user=obj.user, journal_id=obj.pk)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete tied journals too
        return actions

    @admin.action(
        description="Delete selected journals that are not tied to a session", permissions=["delete"]
    )
    def delete_free_journals(self, request, queryset):
        selected = queryset.count()
        free = list(queryset.editable().select_related("user"))
        for journal in free:
            self.delete_model(request, journal)
        count = len(free)
        self.message_user(
            request,
            f"Deleted {count} journal(s); kept {selected - count} tied to a session.",
            messages.SUCCESS,
        )
