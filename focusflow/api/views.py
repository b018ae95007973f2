"""Platform endpoints: health, and the JSON answers for unknown API paths and crashes."""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.urls import Resolver404, resolve
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from focusflow.api.exceptions import BadRequest, CsrfFailed, Forbidden, ServerError
from focusflow.api.handler import error_response
from focusflow.api.serializers import HealthDownSerializer, HealthSerializer

logger = logging.getLogger(__name__)

HEALTH_STATEMENT_TIMEOUT_MS = 2000


class HealthView(APIView):
    """Liveness and database reachability, for load balancers and monitors (no auth)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Health check",
        operation_id="health",
        responses={200: HealthSerializer, 503: HealthDownSerializer},
    )
    def get(self, request):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # A locked or overloaded database must not hang the probe. LOCAL: the timeout
                # ends with this transaction, whatever happens, and never stays on the pooled
                # connection for the requests after it.
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
    """The API has one version: naming it (drf-spectacular's `api_version`) keeps a client's
    `?version=` from being echoed into the Content-Disposition header."""

    api_version = settings.SPECTACULAR_SETTINGS["VERSION"]


# Everything the docs page loads comes from this server (the sidecar's Swagger UI, the init
# script and the page style as files); data: for the icons in Swagger UI's stylesheet.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


class DocsView(SpectacularSwaggerSplitView):
    """The interactive API documentation (Swagger UI)."""

    # The page is HTML under a Content-Security-Policy; anything else it answers (OPTIONS, a
    # wrong method, an error) is JSON like the rest of /api/. DRF would otherwise render those
    # with the page's template renderer, which has no template for them: a 500.
    template_name = "focusflow/swagger_ui.html"

    def get_renderers(self):
        if self.request.method in ("GET", "HEAD"):
            return super().get_renderers()
        return [JSONRenderer()]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # a JSON 404 for every method, not Django's HTML CSRF page
def api_not_found(request, exception=None, **kwargs):
    """Unknown paths under /api/ answer JSON; a missing trailing slash is pointed out."""
    detail = None
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = f"Not found. Did you mean {request.path}/ (with a trailing slash)?"
    return error_response(exceptions.NotFound(), detail=detail)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return error_response(CsrfFailed(), detail=f"CSRF check failed: {reason}")
    return csrf.csrf_failure(request, reason=reason)


def not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return error_response(ServerError())
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return error_response(BadRequest())
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return error_response(Forbidden())
    return defaults.permission_denied(request, exception)
