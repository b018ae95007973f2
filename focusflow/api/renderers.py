"""JSON for every API response, rendered by orjson.

orjson writes the same compact UTF-8 JSON as DRF's renderer (DRF's defaults: no spaces, no
ASCII escaping) several times faster. Timestamps, which orjson would write with `+00:00`,
are handed back to us and written as DRF writes them (`...Z`, `focusflow.api.fields.instant`);
anything else orjson does not know (a lazy translation, a Decimal) is written as text.
"""

from datetime import date, datetime, time

import orjson
from rest_framework import renderers

from focusflow.api.fields import instant

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _other(value):
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def render_json(data) -> bytes:
    return orjson.dumps(data, default=_other, option=_OPTIONS)


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return render_json(data)
