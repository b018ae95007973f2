"""The database out of reach: 503 `database_unavailable` with Retry-After, never a 500.

A client that gets a 500 treats it as a bug and gives up; a 503 with Retry-After tells it to
try again, which with `Idempotency-Key` is always safe. Three places see such an error and
all answer the same:

- the API's exception handler (`focusflow.api.handler`), for every DRF view, authentication
  included (it loads the user);
- `DatabaseOutageMiddleware.process_exception`, for the other views (the admin);
- the same middleware after the fact, for an error raised in other middleware (the admin's
  session saved on the way out): `got_request_exception` marks the request, and the 500 that
  Django made of the error becomes the 503.

Connecting and dead connections are bounded in time by the libpq options of
`focusflow.db.options`, and repeated attempts to reach a database that just failed by the
breaker of `focusflow.db.backend`. Django drops a connection that failed when the request ends
(`close_old_connections` finds it unusable), so the next request connects afresh and the same
worker processes recover by themselves once the database is back.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django.http import HttpResponse, JsonResponse
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# SQLSTATEs of a server that is there but cannot serve: shutting down or starting up (57P0x),
# out of connections or other resources (53), a statement that ran out of time (57014).
# Class 08 is a connection exception. Without any SQLSTATE, libpq itself failed: it could not
# connect, or the connection broke (or focusflow.db.backend's breaker held the attempt back).
# Django runs on psycopg 3, whose errors carry it as `sqlstate` (psycopg2's was `pgcode`).
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "57014"}

_MARK = "_focusflow_database_outage"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database cannot be reached right now; retry in a few seconds."
    default_code = "database_unavailable"
    wait = RETRY_AFTER_SECONDS  # DRF's handler turns it into Retry-After


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc` means the database could not be reached or used, not that a query or
    the data was wrong."""
    # A closed cursor (psycopg 3's "the cursor is closed"). A closed connection is an
    # OperationalError without SQLSTATE in psycopg 3 (psycopg2 made it an InterfaceError).
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        state = getattr(exc.__cause__, "sqlstate", None)
        return state is None or state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES
    if isinstance(exc, DatabaseError):
        # Anything else on a connection that died under it (Django's "you can't execute
        # queries until the end of the atomic block" after it dropped a broken connection).
        return _a_connection_broke()
    return False


def _a_connection_broke() -> bool:
    for each in connections.all(initialized_only=True):
        raw = each.connection
        if each.closed_in_transaction or (raw is not None and getattr(raw, "closed", False)):
            return True
    return False


def _log(request, exc: BaseException) -> None:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    path = getattr(request, "path", "?")
    logger.warning("Database unavailable (%s %s): %s", getattr(request, "method", "?"), path, reason)


def translate(exc: Exception, context: dict | None = None) -> Exception:
    """For the API's exception handler: a database outage becomes DatabaseUnavailable."""
    if not is_database_outage(exc):
        return exc
    _log((context or {}).get("request"), exc)
    return DatabaseUnavailable()


def outage_response(request) -> HttpResponse:
    """The same answer for any view: JSON under /api/, a short page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        error = DatabaseUnavailable()
        response = JsonResponse(
            {"detail": str(error.detail), "code": error.default_code}, status=error.status_code
        )
    else:
        response = HttpResponse(
            "<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1>"
            "<p>The database cannot be reached right now. Try again in a few seconds.</p>",
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseOutageMiddleware:
    """Answers 503 for a database outage anywhere outside DRF's own exception handling.

    Sits right inside CorsMiddleware, so a web app can read the 503 and its Retry-After.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR and getattr(request, _MARK, False):
            return outage_response(request)
        return response

    def process_exception(self, request, exception):
        if not is_database_outage(exception):
            return None
        _log(request, exception)
        return outage_response(request)


def database_answers() -> None:
    """At most one round trip; an outage raises here, and the request answers 503 like any
    other. For the answers served from the shared cache alone (the quote of the day): with the
    database out of reach every /api/ request answers 503, as the contract says.

    A request's first use of a kept connection runs Django's health check (CONN_HEALTH_CHECKS,
    its own `SELECT 1`), and opening a connection is an answer too: either is proof enough, so
    a second `SELECT 1` is sent only when neither happened in this request."""
    unchecked = connection.health_check_enabled and not connection.health_check_done
    if connection.connection is None or unchecked:
        connection.close_if_health_check_failed()  # a kept connection: Django's SELECT 1
        connection.ensure_connection()  # none, or it failed the check: connect (or raise)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _mark_outage(sender, request=None, **kwargs) -> None:
    """Django is about to turn an error from a middleware into a 500: remember if it was an
    outage. Runs inside Django's `except` block, so the error is the one being handled."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_database_outage(exc):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark_outage, dispatch_uid="focusflow.outage.mark")
