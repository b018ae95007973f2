from rest_framework.routers import SimpleRouter

from focus_sessions import tag_views, views

app_name = "focus_sessions"

router = SimpleRouter()
router.register("", views.FocusSessionViewSet, basename="sessions")

urlpatterns = router.urls

# Mounted at /api/tags/ and /api/goals/ (focusflow/urls.py).
tag_router = SimpleRouter()
tag_router.register("", tag_views.TagViewSet, basename="tags")
goal_router = SimpleRouter()
goal_router.register("", tag_views.GoalViewSet, basename="goals")
