from django.contrib import admin, messages
from django.utils import timezone

from focus_sessions import services
from focus_sessions.models import FocusSession


@admin.register(FocusSession)
class FocusSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "start_time", "end_time", "duration", "is_active", "is_paused", "label")
    list_filter = ("is_active", ("paused_at", admin.EmptyFieldListFilter), "start_time")
    search_fields = ("user__email", "label")
    list_select_related = ("user",)
    date_hierarchy = "start_time"
    ordering = ("-start_time",)
    actions = ["stop_sessions"]
    # Times come from the server clock through the services, never typed in by hand.
    readonly_fields = (
        "user",
        "start_time",
        "end_time",
        "is_active",
        "paused_at",
        "paused_duration",
        "focus_seconds",
        "created_at",
    )
    fields = readonly_fields + ("planned_minutes", "label")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="focus", ordering="focus_seconds")
    def duration(self, session: FocusSession) -> str:
        seconds = session.focus_duration_seconds(now=timezone.now())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    @admin.display(boolean=True, description="paused")
    def is_paused(self, session: FocusSession) -> bool:
        return session.is_paused

    @admin.action(description="Stop the selected active sessions")
    def stop_sessions(self, request, queryset):
        stopped = 0
        for user_id in queryset.filter(is_active=True).values_list("user_id", flat=True):
            try:
                services.focus_session_stop(user=user_id)
            except services.NoActiveSession:
                continue  # stopped by its owner meanwhile
            stopped += 1
        self.message_user(request, f"Stopped {stopped} session(s).", messages.SUCCESS)
