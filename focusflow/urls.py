from django.contrib import admin
from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from focus_sessions.urls import goal_router, tag_router
from focusflow.api import views
from focusflow.events.views import EventsViewSet
from focusflow.sync.views import SyncViewSet
from focusflow.webhooks.views import WebhookViewSet

router = SimpleRouter()
router.register("sync", SyncViewSet, basename="sync")
router.register("events", EventsViewSet, basename="events")
router.register("webhooks", WebhookViewSet, basename="webhooks")

urlpatterns = [
    path("api/users/", include("users.urls")),
    path("api/sessions/", include("focus_sessions.urls")),
    path("api/tags/", include((tag_router.urls, "tags"))),
    path("api/goals/", include((goal_router.urls, "goals"))),
    path("api/journals/", include("journals.urls")),
    path("api/quotes/", include("quotes.urls")),
    path("api/", include(router.urls)),
    path("api/health/", views.HealthView.as_view(), name="health"),
    path("api/schema/", views.SchemaView.as_view(), name="schema"),
    path("api/docs/", views.DocsView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    # Anything else under /api/ is a JSON 404, whatever DEBUG says.
    re_path(r"^api/", views.api_not_found),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.not_found
handler500 = views.server_error
