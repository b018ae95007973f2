from rest_framework.routers import SimpleRouter

from users import views

app_name = "users"

router = SimpleRouter()
router.register("", views.AuthViewSet, basename="auth")
router.register("", views.RecoveryViewSet, basename="recovery")
router.register("", views.MeViewSet, basename="me")
router.register("me/tokens", views.PersonalTokenViewSet, basename="tokens")

urlpatterns = router.urls
