from rest_framework.routers import SimpleRouter

from quotes import views

app_name = "quotes"

router = SimpleRouter()
router.register("", views.QuoteViewSet, basename="quotes")

urlpatterns = router.urls
