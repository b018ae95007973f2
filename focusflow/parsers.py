"""A JSON parser that stays a 4xx whatever the body, and says so in its own words.

DRF's own parser reads bodies of any size, decodes them with whatever `charset=` the client
names, lets a deeply nested document escape as a RecursionError (a 500) and echoes Python's
messages (codec names, `sys.set_int_max_str_digits`). This one refuses bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 before parsing, reads UTF-8 only (RFC 8259: JSON
exchanged between systems is UTF-8, whatever the header claims), and turns every document it
cannot use into a 400 with a message of its own.
"""

import json
import math
import re

from django.conf import settings
from rest_framework import exceptions, parsers, status

# Far more digits than any field takes (a bigint has 19); Python itself stops at 4300.
MAX_NUMBER_DIGITS = 100
# A `\uD800`-`\uDFFF` escape: the only way a lone surrogate (not text, and not storable in
# PostgreSQL) gets into a string decoded from valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class RequestTooLarge(exceptions.APIException):
    """Kept here, not in focusflow.exceptions: DRF imports this parser while it loads its
    views, before the exception handler's module can be imported."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class _Refused(ValueError):
    """A value json.loads would accept but the API does not; its message is shown as is."""


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge()
        return parse_json(raw)


def parse_json(raw: bytes):
    """The document in `raw`, or a ParseError whose message names no Python internals."""
    try:
        # A leading byte order mark is tolerated (RFC 8259, section 8.1), nothing else.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise exceptions.ParseError("The body is not valid UTF-8; send JSON encoded as UTF-8.") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_integer, parse_float=_number)
    except _Refused as exc:
        raise exceptions.ParseError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise exceptions.ParseError(
            f"The body is not valid JSON (line {exc.lineno}, column {exc.colno})."
        ) from None
    except RecursionError:
        raise exceptions.ParseError("The body is nested too deeply.") from None
    except ValueError:
        raise exceptions.ParseError("The body is not valid JSON.") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
        raise exceptions.ParseError("The body has a string with an unpaired \\u surrogate escape.")
    return data


def _reject_constant(name: str):
    raise _Refused(f"{name} is not valid JSON.")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _Refused("A number in the body has too many digits.")
    return int(digits)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("A number in the body is out of range.")
    return value


def _has_lone_surrogate(data) -> bool:
    """Walks the document without recursion (json.loads has already bounded its depth)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
