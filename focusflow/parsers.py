"""A JSON parser that stays a 4xx whatever the body.

DRF's own parser reads bodies of any size and lets a deeply nested document escape as a
RecursionError (a 500). This one refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413
before parsing, and turns every undecodable document into a 400.
"""

import json

from django.conf import settings
from rest_framework import exceptions, parsers, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=_reject_constant)
        except (ValueError, RecursionError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
