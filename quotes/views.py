import hashlib
import json

from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from focusflow.api.schema import errors
from focusflow.api.scopes import ANY_TOKEN
from focusflow.api.viewsets import APIViewSet
from focusflow.db.outage import database_answers
from quotes.calendar import quote_day, quote_day_end, seconds_left_in_day
from quotes.selectors import daily_quote_payload
from quotes.serializers import TodayQuoteSerializer
from quotes.services import NoQuotes


def _etag(data: dict) -> str:
    """Strong: the same day, quote and wording give byte-identical bodies."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return f'"{data["date"]}-{data["id"]}-{digest}"'


class QuoteViewSet(APIViewSet):
    token_scopes = (ANY_TOKEN, ANY_TOKEN)

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
            **errors(NoQuotes),
        },
    )
    @action(detail=False, methods=["get"])
    def today(self, request):
        database_answers()
        day = quote_day()
        data = TodayQuoteSerializer(daily_quote_payload(day=day)).data
        etag = _etag(data)
        response = Response(
            data,
            headers={
                "ETag": etag,
                "Cache-Control": f"private, max-age={seconds_left_in_day(day=day)}",
                "Expires": http_date(quote_day_end(day=day).timestamp()),
            },
        )
        # Django's If-None-Match handling (weak comparison, `*`); a 304 keeps the caching headers.
        return get_conditional_response(request, etag=etag, response=response)
