from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The worker command and the housekeeping schedule; the queue's tables are procrastinate's."""

    name = "focusflow.jobs"
    label = "jobs"
    verbose_name = "Jobs"
