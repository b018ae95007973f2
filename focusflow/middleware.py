"""Request plumbing that must hold before any view runs."""

import io

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.handlers.asgi import ASGIRequest
from gunicorn.http.errors import ParseException
from rest_framework.exceptions import ParseError

from focusflow.api.exceptions import LengthRequired, RequestTooLarge
from focusflow.api.handler import error_response


class ChunkedBodyMiddleware:
    """Read chunked request bodies instead of silently dropping them.

    Django's WSGI request trusts Content-Length and treats a body without one as empty, so a
    client that streams its JSON (`Transfer-Encoding: chunked`) would have its fields ignored.
    When the server has de-chunked the stream (gunicorn sets `wsgi.input_terminated`; an ASGI
    server always does), read it, with the same size limit as any body; otherwise answer 411 so
    the client resends it with a length. A chunked body that cannot be read (a malformed chunk,
    or cut short: gunicorn's parse errors, NoMoreData, a reset) is the client's mistake, a 400,
    not a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            if isinstance(request, ASGIRequest):
                source = request._stream  # the ASGI server has de-chunked it already
            elif request.META.get("wsgi.input_terminated"):
                source = request.META["wsgi.input"]
            else:
                return error_response(LengthRequired())
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            try:
                body = source.read(limit + 1)
            except (ParseException, OSError):
                return error_response(ParseError(), detail="The chunked body is malformed or incomplete.")
            if len(body) > limit:
                return error_response(RequestTooLarge())
            request._stream = io.BytesIO(body)
            request.META["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)


def _admin_only(middleware_class):
    """The same middleware, passed over for requests to /api/, which authenticate with bearer
    tokens and use no session, login or messages: only the admin does."""

    class AdminOnly(middleware_class):
        def __call__(self, request):
            if request.path_info.startswith("/api/"):
                return self.get_response(request)
            return super().__call__(request)

    AdminOnly.__name__ = AdminOnly.__qualname__ = f"AdminOnly{middleware_class.__name__}"
    return AdminOnly


AdminSessionMiddleware = _admin_only(SessionMiddleware)
AdminAuthenticationMiddleware = _admin_only(AuthenticationMiddleware)
AdminMessageMiddleware = _admin_only(MessageMiddleware)
