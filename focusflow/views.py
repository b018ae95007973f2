"""Platform endpoints: health, and the JSON answers for unknown API paths and crashes."""

import logging

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

HEALTH_STATEMENT_TIMEOUT_MS = 2000


class HealthView(APIView):
    """Liveness and database reachability, for load balancers and monitors (no auth)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Health check",
        responses={
            200: inline_serializer(
                "Health",
                {"status": serializers.CharField(), "database": serializers.CharField()},
            ),
            503: inline_serializer(
                "HealthDown",
                {"status": serializers.CharField(), "database": serializers.CharField()},
            ),
        },
    )
    def get(self, request):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # A locked or overloaded database must not hang the probe. LOCAL: the
                    # timeout ends with this transaction, whatever happens, and never stays on
                    # the pooled connection for the requests after it.
                    cursor.execute(f"SET LOCAL statement_timeout = {HEALTH_STATEMENT_TIMEOUT_MS}")
                cursor.execute("SELECT 1")
        except Exception:
            logger.warning("Health check: database unreachable", exc_info=True)
            # Drop the broken connection so the next request starts afresh.
            connection.close_if_unusable_or_obsolete()
            return Response(
                {"status": "error", "database": "unreachable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok", "database": "ok"})


class SchemaView(SpectacularAPIView):
    """The API has one version; `?version=` is ignored rather than echoed into a header."""

    def _get_version_parameter(self, request):
        return None


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # a JSON 404 for every method, not Django's HTML CSRF page
def api_not_found(request, exception=None, **kwargs):
    """Unknown paths under /api/ answer JSON; a missing trailing slash is pointed out."""
    detail = "Not found."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = f"Not found. Did you mean {request.path}/ (with a trailing slash)?"
    return JsonResponse({"detail": detail, "code": "not_found"}, status=404)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}", "code": "csrf_failed"}, status=403)
    return csrf.csrf_failure(request, reason=reason)


def not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side.", "code": "server_error"}, status=500
        )
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            {"detail": "The request could not be understood.", "code": "bad_request"}, status=400
        )
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action.", "code": "permission_denied"},
            status=403,
        )
    return defaults.permission_denied(request, exception)
