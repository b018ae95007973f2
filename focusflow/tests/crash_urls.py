"""A URLconf with a view that crashes, to see what a client gets from an unexpected error."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class CrashView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [path("api/crash/", CrashView.as_view())]
