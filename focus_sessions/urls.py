from rest_framework.routers import SimpleRouter

from focus_sessions import views

app_name = "focus_sessions"

router = SimpleRouter()
router.register("", views.FocusSessionViewSet, basename="sessions")

urlpatterns = router.urls
