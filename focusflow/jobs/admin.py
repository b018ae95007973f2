from django.contrib import admin
from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

admin.site.unregister(ProcrastinateJob)


@admin.register(ProcrastinateJob)
class JobAdmin(ProcrastinateJobAdmin):
    """procrastinate's read-only job list (filter by status: how many wait, which failed and
    why; retry or cancel from the actions), newest first. The list shows what each job is and
    where it stands; its arguments, an email address among them, are on its own page."""

    list_display = ["pk", "short_task_name", "pretty_status", "queue_name", "attempts", "summary"]
    ordering = ["-id"]
