from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class FocusflowConfig(AppConfig):
    """The project package is an app too: its templates, static files and display formats, and
    the migrations that made the feature tables (sync, idempotency, throttling) before each
    feature became an app of its own."""

    name = "focusflow"
    default = True  # of the two configs in this module; AdminConfig is named in INSTALLED_APPS
    verbose_name = "Platform"


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, whose login and password change count against the password-check
    limit like every other place that checks a password."""

    default = False
    default_site = "focusflow.admin.site.AdminSite"
