from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from focus_sessions import services
from focus_sessions.exceptions import NoActiveSession
from focus_sessions.models import FocusSession, Goal, Tag
from focusflow.admin.lists import ReadOnlyAdmin, UserEmailFilter, YesNoFilter, email_cell
from focusflow.core.display import datetime_text, excerpt


class PausedFilter(YesNoFilter):
    title = "paused"
    parameter_name = "paused"
    yes = Q(paused_at__isnull=False)


class TagFilter(admin.SimpleListFilter):
    """Sessions with one tag. Tags are per account, so the choices are the tags of the account
    the email filter picked (a list of every tag of every account would not do); `?tag=<id>`
    works on its own too."""

    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        email = request.GET.get(UserEmailFilter.parameter_name)
        tags = Tag.objects.filter(user__in=get_user_model().objects.filter_by_email(email)) if email else []
        return [(str(tag.pk), str(tag)) for tag in tags]

    def has_output(self) -> bool:
        return bool(self.lookup_choices) or self.value() is not None

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            return queryset.none()
        return queryset.filter(tag_ids__contains=[int(value)])


@admin.register(FocusSession)
class FocusSessionAdmin(admin.ModelAdmin):
    list_display = ("start_time", "account", "duration", "state", "label_excerpt")
    list_filter = ("is_active", PausedFilter, UserEmailFilter, TagFilter, "start_time")
    search_fields = ("user__email", "label")
    list_select_related = ("user",)
    date_hierarchy = "start_time"
    ordering = ("-start_time",)
    actions = ["stop_sessions"]
    # Times come from the server clock through the services, never typed in by hand.
    readonly_fields = (
        "user",
        "local_start",
        "start_time",
        "end_time",
        "is_active",
        "paused_at",
        "paused_duration",
        "focus_seconds",
        "created_at",
        "updated_at",
        "version",
        "client_id",
        "tag_ids",
    )
    fields = readonly_fields + ("planned_minutes", "label")

    def get_queryset(self, request):
        # The owner names the session (its email and clock): on the change and delete pages too.
        return super().get_queryset(request).select_related("user")

    # Every change goes through the services, so it is numbered for the devices' sync (and
    # versioned) like a change made through the API; a deletion leaves its tombstone.
    def save_model(self, request, obj, form, change) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        services.focus_session_update(user=obj.user, session_id=obj.pk, **changes)

    def delete_model(self, request, obj) -> None:
        services.focus_session_delete(user=obj.user, session_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for session in queryset.select_related("user"):
            self.delete_model(request, session)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="user", ordering="user__email")
    def account(self, session: FocusSession) -> str:
        return email_cell(session.user.email)

    @admin.display(description="start, on the user's clock")
    def local_start(self, session: FocusSession) -> str:
        return f"{datetime_text(session.start_time, session.user.timezone)} ({session.user.timezone})"

    @admin.display(description="label", ordering="label")
    def label_excerpt(self, session: FocusSession) -> str:
        return excerpt(session.label, 30)

    @admin.display(description="focus", ordering="focus_seconds")
    def duration(self, session: FocusSession) -> str:
        seconds = session.focus_duration_seconds(now=timezone.now())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    @admin.display(description="state")
    def state(self, session: FocusSession) -> str:
        if not session.is_active:
            return "stopped"
        return "paused" if session.is_paused else "running"

    @admin.action(description="Stop the selected active sessions")
    def stop_sessions(self, request, queryset):
        stopped = 0
        for session in queryset.filter(is_active=True).select_related("user"):
            try:
                services.focus_session_stop(user=session.user)
            except NoActiveSession:
                continue  # stopped by its owner meanwhile
            stopped += 1
        self.message_user(request, f"Stopped {stopped} session(s).", messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    """Each account's tags, to read: they change through the API (and its sync feed)."""

    list_display = ("name", "account", "color", "archived", "updated_at")
    list_filter = (UserEmailFilter, "archived")
    search_fields = ("user__email", "name")
    list_select_related = ("user",)
    ordering = ("user__email", "name_key")
    fields = ("user", "name", "color", "archived", "client_id", "version", "created_at", "updated_at")

    @admin.display(description="user", ordering="user__email")
    def account(self, tag: Tag) -> str:
        return email_cell(tag.user.email)


@admin.register(Goal)
class GoalAdmin(ReadOnlyAdmin):
    """Each account's goals, to read."""

    list_display = ("account", "tag_name", "period", "target_minutes", "updated_at")
    list_filter = (UserEmailFilter, "period")
    search_fields = ("user__email",)
    list_select_related = ("user", "tag")
    fields = ("user", "tag", "period", "target_minutes", "client_id", "version", "created_at", "updated_at")

    @admin.display(description="user", ordering="user__email")
    def account(self, goal: Goal) -> str:
        return email_cell(goal.user.email)

    @admin.display(description="tag", ordering="tag__name_key")
    def tag_name(self, goal: Goal) -> str:
        return excerpt(goal.tag.name, 24) if goal.tag is not None else "— (all focus)"
