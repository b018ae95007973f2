"""`/api/webhooks/`: the caller's webhooks, their pings, secrets and delivery logs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from focusflow.api.pagination import CursorPagination
from focusflow.api.schema import errors, invalid
from focusflow.api.scopes import WEBHOOKS_MANAGE, InsufficientScope, scopes_of
from focusflow.api.viewsets import ID_PATTERN, APIViewSet
from focusflow.throttling.limits import Limit
from focusflow.throttling.throttles import LimitThrottle, rate_limited
from focusflow.webhooks import services
from focusflow.webhooks.serializers import (
    SecretSerializer,
    ValidateSerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)


class _PerWebhook(LimitThrottle):
    """Counted per account and webhook: another account's requests for this id (404s) count
    against that account, never against the webhook's owner."""

    def counted_wait(self, request, view) -> float | None:
        return self.limit.hit(f"webhook:{request.user.pk}:{view.kwargs.get('pk')}")


class PingThrottle(_PerWebhook):
    limit = Limit("webhook-ping", "WEBHOOK_PING_RATE")
    description = "more than 10 pings of this webhook in an hour"


class RedeliverThrottle(_PerWebhook):
    limit = Limit("webhook-redeliver", "WEBHOOK_REDELIVER_RATE")
    description = "more than 10 redeliveries of this webhook in an hour"


class DeliveryPagination(CursorPagination):
    ordering = ("-delivered_at", "-id")


SCOPES_NOTE = (
    " With a personal access token: `webhooks:manage`, and the scope to read what it subscribes "
    "to (`sessions:read` for `session.*`, `journals:read` for `journal.*`), else 403 `insufficient_scope`."
)


class WebhookViewSet(APIViewSet):
    """The caller's webhooks; anybody else's is a 404 for every method."""

    token_scopes = (WEBHOOKS_MANAGE, WEBHOOKS_MANAGE)
    serializer_class = WebhookSerializer
    lookup_value_regex = ID_PATTERN

    def _scopes_check(self, events, *, webhook_id: int | None = None) -> None:
        """A personal access token manages only webhooks of what it may read: those it makes
        or changes (`events`), and the one it acts on (its events as they are), so it can
        neither subscribe to nor redirect what it could not read itself."""
        scopes = scopes_of(self.request.auth)
        if scopes is None:
            return
        if webhook_id is not None:
            services.events_scope_check(
                scopes=scopes,
                events=services.webhook_get(user=self.request.user, webhook_id=webhook_id).events,
            )
        services.events_scope_check(scopes=scopes, events=events)

    @extend_schema(
        summary="My webhooks", description="Newest first.", responses={200: WebhookSerializer(many=True)}
    )
    def list(self, request):
        page = self.paginate_queryset(services.webhooks_list(user=request.user))
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a webhook",
        description="It starts `pending`: a `ping` carrying a `validation_code` is sent at once. It "
        "becomes `active` when the ping is answered with a 2xx JSON body whose top-level "
        "`validation_code` is that code, or when you send the code to `validate/`. The `secret` "
        "is in this response only. Your address is told that a webhook was added. At most 10 per "
        "account." + SCOPES_NOTE,
        request=WebhookCreateSerializer,
        responses={
            201: WebhookCreatedSerializer,
            **errors(
                invalid(
                    "A URL not https or to a host that is not public (one message for all); an unknown event."
                ),
                services.WebhookLimitReached,
                InsufficientScope,
            ),
        },
    )
    def create(self, request):
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self._scopes_check(serializer.validated_data["events"])
        webhook, secret = services.webhook_create(user=request.user, **serializer.validated_data)
        webhook.secret = secret
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="A webhook", responses={200: WebhookSerializer, **errors(exceptions.NotFound)})
    def retrieve(self, request, pk=None):
        return Response(WebhookSerializer(services.webhook_get(user=request.user, webhook_id=int(pk))).data)

    @extend_schema(
        summary="Change a webhook",
        description="A new `url` makes it `pending` and pings it. `status: active` re-enables a "
        "webhook validated at its current URL (after a 410, 3 days of failures, a password reset "
        "or your own `disabled`); `disabled` stops its events." + SCOPES_NOTE,
        request=WebhookUpdateSerializer,
        responses={200: WebhookSerializer, **errors(invalid(), exceptions.NotFound, InsufficientScope)},
    )
    def partial_update(self, request, pk=None):
        serializer = WebhookUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self._scopes_check(serializer.validated_data.get("events", ()), webhook_id=int(pk))
        webhook = services.webhook_update(user=request.user, webhook_id=int(pk), **serializer.validated_data)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(
        summary="Delete a webhook",
        description="Its pending deliveries and its log go with it.",
        request=None,
        responses={204: None, **errors(exceptions.NotFound)},
    )
    def destroy(self, request, pk=None):
        services.webhook_delete(user=request.user, webhook_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Validate a webhook with its ping's code",
        description="For a receiver that cannot answer the ping with its code: read the code it "
        "received and send it here. After 5 wrong codes, only a new ping helps.",
        request=ValidateSerializer,
        responses={
            200: WebhookSerializer,
            **errors(invalid(), services.ValidationInvalid, exceptions.NotFound),
        },
    )
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        self._scopes_check((), webhook_id=int(pk))
        serializer = ValidateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_validate(
            user=request.user, webhook_id=int(pk), code=serializer.validated_data["validation_code"]
        )
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(
        summary="Ping a webhook",
        description="Another `ping`, with a new `validation_code` (the earlier one no longer "
        "validates). At most 10 an hour per webhook.",
        request=None,
        responses={202: None, **errors(exceptions.NotFound)},
    )
    @action(detail=True, methods=["post"])
    @rate_limited(PingThrottle)
    def ping(self, request, pk=None):
        self._scopes_check((), webhook_id=int(pk))
        services.webhook_ping(user=request.user, webhook_id=int(pk))
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Rotate a webhook's secret",
        description="The new secret is in this response only. For 24 hours every delivery carries "
        "a signature by each secret (`webhook-signature: v1,<new> v1,<old>`), so the receiver can "
        "switch without losing one.",
        request=None,
        responses={200: SecretSerializer, **errors(exceptions.NotFound)},
    )
    @action(detail=True, methods=["post"], url_path="secret/rotate")
    def secret_rotate(self, request, pk=None):
        self._scopes_check((), webhook_id=int(pk))
        return Response({"secret": services.webhook_secret_rotate(user=request.user, webhook_id=int(pk))})

    @extend_schema(
        summary="A webhook's delivery log",
        description="One row per attempt, newest first: what the receiver answered, how long it "
        "took, and when the next attempt is due.",
        responses={200: WebhookDeliverySerializer(many=True), **errors(exceptions.NotFound)},
    )
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(services.webhook_deliveries(user=request.user, webhook_id=int(pk)))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Deliver an event again",
        description="The event of that attempt once more, now, with the same `webhook-id`. Only for "
        "an active webhook; at most 10 an hour per webhook.",
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses={202: None, **errors(exceptions.NotFound, services.WebhookNotActive)},
    )
    @action(detail=True, methods=["post"], url_path=rf"deliveries/(?P<delivery_id>{ID_PATTERN})/redeliver")
    @rate_limited(RedeliverThrottle)
    def redeliver(self, request, pk=None, delivery_id=None):
        self._scopes_check((), webhook_id=int(pk))
        services.webhook_redeliver(user=request.user, webhook_id=int(pk), delivery_id=int(delivery_id))
        return Response(status=status.HTTP_202_ACCEPTED)
