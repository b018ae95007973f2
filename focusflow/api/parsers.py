"""A JSON parser that stays a 4xx whatever the body, and says so in its own words.

DRF's own parser reads bodies of any size, decodes them with whatever `charset=` the client
names, lets a deeply nested document escape as a RecursionError (a 500) and echoes Python's
messages (codec names, `sys.set_int_max_str_digits`). This one refuses bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 before parsing and hands the rest to orjson, which
reads UTF-8 only (RFC 8259: JSON exchanged between systems is UTF-8, whatever the header
claims) and already refuses what the API cannot store or compute with: NaN and Infinity,
numbers beyond a double, unpaired surrogate escapes, invalid UTF-8, nesting past 1,024
levels. Its refusals become a 400 with a message of ours.
"""

import orjson
from django.conf import settings
from rest_framework import exceptions, parsers

from focusflow.api.exceptions import RequestTooLarge

_BOM = b"\xef\xbb\xbf"
# orjson's reason (the start of its message) -> what the client is told.
_MESSAGES = {
    "str is not valid UTF-8": "The body is not valid UTF-8; send JSON encoded as UTF-8.",
    "depth limit exceeded": "The body is nested too deeply.",
    "number is infinity": "A number in the body is out of range.",
    "no low surrogate": "The body has a string with an unpaired \\u surrogate escape.",
    "invalid high surrogate": "The body has a string with an unpaired \\u surrogate escape.",
    "invalid low surrogate": "The body has a string with an unpaired \\u surrogate escape.",
}


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
        return orjson.loads(raw.removeprefix(_BOM))
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        message = next((text for start, text in _MESSAGES.items() if reason.startswith(start)), None)
        raise exceptions.ParseError(
            message or f"The body is not valid JSON (line {exc.lineno}, column {exc.colno})."
        ) from None
