from rest_framework.routers import SimpleRouter

from journals import views

app_name = "journals"

router = SimpleRouter()
router.register("", views.JournalViewSet, basename="journals")

urlpatterns = router.urls
