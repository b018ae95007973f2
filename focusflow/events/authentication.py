"""`GET /api/events/?ticket=`: a browser's EventSource cannot send an Authorization header, so
it presents a ticket bought with its access token (`POST /api/events/ticket/`)."""

from django.core.handlers.asgi import ASGIRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from focusflow.events.tickets import event_ticket_spend


class TicketInvalid(exceptions.AuthenticationFailed):
    default_detail = "The ticket is unknown, spent or expired, or its login has ended; get a new one."
    default_code = "ticket_not_valid"


class TicketAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        ticket = request.query_params.get("ticket")
        if ticket is None or request.method != "GET":
            return None  # the bearer token's turn (and any other method is refused anyway)
        # Spent only where its stream can open: a WSGI server answers 421 (focusflow.events.views).
        credential = event_ticket_spend(ticket, spend=isinstance(request._request, ASGIRequest))
        if credential is None:
            raise TicketInvalid()
        user, refusal = credential.check()
        if refusal is not None:
            raise TicketInvalid()
        return user, credential

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class TicketAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "focusflow.events.authentication.TicketAuthentication"
    name = "ticket"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "ticket",
            "description": "A single-use ticket from `POST /api/events/ticket/`, valid 60 seconds.",
        }
