"""DRF's content negotiation, with its answers remembered.

Every API request negotiates its renderer from the Accept header, and the answer depends on
nothing else but the view's renderers and a `?format=`: apps send the same one or two headers
all day, so parsing and ranking them again on each request is wasted work. Answers are kept per
(header, renderers), in a small bounded table of short headers (DRF keeps no such table, so
that clients cannot fill memory with headers: here a header is at most 200 characters and the
table at most 256 of them); a refusal (406) is never kept, and a request naming a format goes
the whole way as before.
"""

from rest_framework.negotiation import DefaultContentNegotiation

_answers: dict[tuple, tuple[int, str]] = {}
_ANSWERS_MAX = 256
_HEADER_MAX = 200


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix or self.settings.URL_FORMAT_OVERRIDE in request.query_params:
            return super().select_renderer(request, renderers, format_suffix)
        accept = request.META.get("HTTP_ACCEPT")
        if accept is not None and len(accept) > _HEADER_MAX:
            return super().select_renderer(request, renderers, format_suffix)
        key = (accept, *(type(renderer) for renderer in renderers))
        known = _answers.get(key)
        if known is not None:
            return renderers[known[0]], known[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(_answers) >= _ANSWERS_MAX:
            _answers.clear()  # bounded: headers nobody repeats cannot grow it
        _answers[key] = (renderers.index(renderer), media_type)
        return renderer, media_type
