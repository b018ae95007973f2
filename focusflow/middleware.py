"""Request plumbing that must hold before any view runs."""

import io

from django.conf import settings
from django.http import JsonResponse


class ChunkedBodyMiddleware:
    """Read chunked request bodies instead of silently dropping them.

    Django's WSGI request trusts Content-Length and treats a body without one as empty, so a
    client that streams its JSON (`Transfer-Encoding: chunked`) would have its fields ignored.
    When the server has de-chunked the stream (gunicorn sets `wsgi.input_terminated`), read it,
    with the same size limit as any body; otherwise answer 411 so the client resends it with a
    length.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            if not request.META.get("wsgi.input_terminated"):
                return JsonResponse(
                    {"detail": "Send the body with a Content-Length header.", "code": "length_required"},
                    status=411,
                )
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return JsonResponse(
                    {"detail": "The request body is too large.", "code": "request_too_large"}, status=413
                )
            request._stream = io.BytesIO(body)
            request.META["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)
