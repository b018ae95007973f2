"""`GET /api/events/` (the stream) and `POST /api/events/ticket/`."""

import threading

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from focusflow.api.exceptions import DomainError
from focusflow.api.schema import errors, invalid
from focusflow.api.scopes import ANY_TOKEN
from focusflow.api.viewsets import APIViewSet
from focusflow.events.authentication import TicketAuthentication, TicketInvalid
from focusflow.events.credentials import Credential
from focusflow.events.slots import stream_slot_take
from focusflow.events.streams import RESET, event, event_stream
from focusflow.events.tickets import event_ticket_issue
from focusflow.sync.feed import SyncCursor, SyncCursorExpired, cursor_decode, sync_position
from users.authentication import BearerAuthentication

STREAM_DESCRIPTION = """The sync feed, pushed as Server-Sent Events (`text/event-stream`).

- `event: change`, `id: <cursor>`, `data:` one change exactly as `GET /api/sync/` shows it.
- `event: ready`, `data: {"cursor"}`: the backlog after the cursor is sent; live from here.
- `event: reset`: the cursor is older than the deletions the server keeps (sync would answer
  410); the stream ends: sync again without a cursor.
- `event: end`, `data: {"reason": "expired" | "revoked"}`: the access token behind the stream
  expired, or its login ended (a personal access token: it expired, or was deleted or revoked);
  the stream ends.
- With a personal access token (or a ticket it bought), only the kinds it may read: `profile`;
  `session`, `tag`, `goal` with `sessions:read`; `journal` with `journals:read`.
- A comment line (`: heartbeat`) at least every 15 seconds.

Resume with `Last-Event-ID` (EventSource sends it by itself) or `?cursor=` (which wins):
every change after it, then live ones; none missed, none twice, on any server. Without
either, the stream starts live. A browser authenticates with `?ticket=` (one use: for a
reconnect, buy a new one and open `?ticket=<new>&cursor=<last id>`); other clients send
their bearer token. At most 50 open streams per account."""


class TooManyStreams(exceptions.Throttled):
    default_detail = "This account has the most open event streams it may have; close one first."
    default_code = "too_many_streams"


class EventsNotServedHere(DomainError):
    """421 Misdirected Request: the request reached a server that cannot answer it (a gunicorn
    instance, when the proxy should send it to the events processes); another can."""

    status_code = status.HTTP_421_MISDIRECTED_REQUEST
    default_detail = (
        "Event streams are served by the events processes (uvicorn focusflow.asgi:application), "
        "not by this WSGI server; route /api/events/ to them."
    )
    default_code = "events_not_served_here"


class EventsQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Resume after this cursor (an event's `id`, or a sync cursor); wins over `Last-Event-ID`.",
    )


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Single use: `GET /api/events/?ticket=<ticket>`.")
    expires_in = serializers.IntegerField(help_text="Seconds it stays valid.")


_opening = threading.BoundedSemaphore(settings.EVENTS_OPENING_AT_ONCE)


class StreamNegotiation(DefaultContentNegotiation):
    """EventSource asks for `text/event-stream`: the stream is that, and an error before it is
    the API's JSON whatever the `Accept` header says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class EventsViewSet(APIViewSet):
    token_scopes = (ANY_TOKEN, ANY_TOKEN)  # what each token shows depends on its scopes
    pagination_class = None
    content_negotiation_class = StreamNegotiation
    http_method_names = ["get", "post", "options"]  # no HEAD: it would hold a stream open for nothing

    def dispatch(self, request, *args, **kwargs):
        """A stream's opening, from authentication to its first byte, holds a database
        connection in a thread of its own (Django's ASGI handler): at most
        EVENTS_OPENING_AT_ONCE at a time per process, so a herd of reconnects (an events
        instance restarted, its streams coming here) cannot use up PostgreSQL's connections.
        The connection goes when the opening is done; the stream reads in a shared pool."""
        if request.method != "GET" or not isinstance(request, ASGIRequest):
            return super().dispatch(request, *args, **kwargs)
        with _opening:
            try:
                return super().dispatch(request, *args, **kwargs)
            finally:
                connection.close()

    def initialize_request(self, request, *args, **kwargs):
        self.action = self.action_map.get(request.method.lower())  # DRF sets it only afterwards
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self):
        if getattr(self, "action", None) == "list":
            return [TicketAuthentication(), BearerAuthentication()]
        return super().get_authenticators()

    @extend_schema(
        summary="Live updates: the sync feed as Server-Sent Events",
        description=STREAM_DESCRIPTION,
        operation_id="events_stream",
        parameters=[
            EventsQuerySerializer,
            OpenApiParameter(
                "Last-Event-ID",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The last event id the client received (EventSource sends it on reconnect).",
            ),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="The event stream."),
            **errors(
                invalid("A malformed `cursor` or `Last-Event-ID` (400 on `cursor`)."),
                TicketInvalid,
                TooManyStreams,
                EventsNotServedHere,
            ),
        },
    )
    def list(self, request):
        query = EventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        raw = query.validated_data.get("cursor") or request.headers.get("Last-Event-ID", "").strip()
        credential = Credential.of_request(request.auth)
        latest, purged = sync_position(user=request.user)
        if raw:
            try:
                cursor = cursor_decode(raw, user=request.user, purged_seq=purged, latest=latest)
            except SyncCursorExpired:
                return _stream(iter([event("reset", RESET)]))
        else:  # live from now: the stream's first look, once subscribed, catches anything since
            cursor = SyncCursor(seq=latest, chain_start=latest)
        if not isinstance(request._request, ASGIRequest):
            raise EventsNotServedHere()
        slot = stream_slot_take(user_id=request.user.pk)
        if slot is None:
            raise TooManyStreams(wait=settings.EVENTS_HEARTBEAT_SECONDS)
        return _stream(event_stream(credential=credential, cursor=cursor, slot=slot))

    @extend_schema(
        summary="A ticket for EventSource",
        description=(
            "A single-use ticket for `GET /api/events/?ticket=`, valid 60 seconds (or until the "
            "token that bought it expires, if sooner: `expires_in`), for a browser's "
            "EventSource (which cannot send headers). It speaks for the login (or personal access "
            "token, with its scopes) that bought it: refused once that ends; its stream ends when "
            "that token expires."
        ),
        operation_id="events_ticket",
        request=None,
        responses={201: TicketSerializer},
    )
    @action(detail=False, methods=["post"])
    def ticket(self, request):
        ticket, expires_in = event_ticket_issue(credential=Credential.of_request(request.auth))
        return Response({"ticket": ticket, "expires_in": expires_in}, status=status.HTTP_201_CREATED)


def _stream(content) -> StreamingHttpResponse:
    return StreamingHttpResponse(
        content,
        content_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
