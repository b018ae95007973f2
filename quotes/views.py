import hashlib
import json

from django.http import HttpResponseNotModified
from django.utils.http import http_date, parse_etags
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from focusflow.schema import UNAUTHORIZED, error
from quotes import services
from quotes.serializers import TodayQuoteSerializer


def _etag(data: dict) -> str:
    """Strong: the same day, quote and wording give byte-identical bodies."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return f'"{data["date"]}-{data["id"]}-{digest}"'


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"."""
    tags = parse_etags(if_none_match)
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


class TodayQuoteView(APIView):
    @extend_schema(
        summary="Quote of the day",
        description=(
            "The same quote for every user on a calendar day (in the server's `QUOTES_TIME_ZONE`). "
            "It does not change during the day, and no quote repeats until every quote has been "
            "shown. Responses carry an `ETag` (send it back in `If-None-Match` for a 304) and "
            "`Cache-Control: private, max-age=<seconds left in the day>`, so a client cache never "
            "keeps it past midnight."
        ),
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                location=OpenApiParameter.HEADER,
                description="An ETag from an earlier response: 304 while it is still the day's quote.",
            ),
            OpenApiParameter(
                "ETag", location=OpenApiParameter.HEADER, response=[200, 304], description="The quote's tag."
            ),
            OpenApiParameter(
                "Cache-Control",
                location=OpenApiParameter.HEADER,
                response=[200, 304],
                description="`private, max-age=N`, N being the seconds until the day ends.",
            ),
            OpenApiParameter(
                "Expires",
                location=OpenApiParameter.HEADER,
                response=[200, 304],
                description="The end of the day (HTTP date).",
            ),
        ],
        responses={
            200: TodayQuoteSerializer,
            304: OpenApiResponse(description="Not modified: the `If-None-Match` tag is still current."),
            401: UNAUTHORIZED,
            404: error("No quotes are loaded (`code`: `no_quotes`)."),
        },
    )
    def get(self, request):
        day = services.quote_day()
        data = TodayQuoteSerializer(services.daily_quote_payload(day=day)).data
        etag = _etag(data)
        headers = {
            "ETag": etag,
            "Cache-Control": f"private, max-age={services.seconds_left_in_day(day=day)}",
            "Expires": http_date(services.quote_day_end(day=day).timestamp()),
        }
        if _matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponseNotModified()
            for name, value in headers.items():
                response[name] = value
            return response
        return Response(data, headers=headers)
