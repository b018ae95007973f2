"""Webhooks: what they are told, when, and what becomes of them.

Events. A write that changes a session or a journal calls `webhook_event` in its own
transaction: one message per active webhook of the account that subscribes to the event, its
body frozen then (the object as its endpoint shows it; a journal without its text), and a
delivery job deferred in the same transaction. A write that rolls back sends nothing; one that
commits is delivered at least once: the worker that dies mid-delivery leaves the job to be run
again (focusflow.jobs.housekeeping: stalled jobs), with the same message and `webhook-id`.

Attempts (`webhook_message_attempt`, run by the worker). Each attempt is signed afresh by the
Standard Webhooks reference library (`webhook-id`, `webhook-timestamp`, `webhook-signature`;
both secrets for 24 hours after a rotation), sent by `focusflow.webhooks.transport`, and
logged (`WebhookDelivery`). A failure is tried again at about SCHEDULE's offsets from the first
attempt (with jitter; a `Retry-After` of up to 24 hours delays it), then dropped. A 410
disables the webhook (`gone`); failing every attempt for FAILING_FOR disables it (`failing`);
both email its owner.

Validation. A new webhook (or a new URL) is `pending` and gets a `ping` with a validation code
at once; it becomes `active` when the ping is answered with a 2xx JSON body carrying the
code, or when its owner sends the code (`webhook_validate`). Only active webhooks get events.
"""

import json
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now
from rest_framework import exceptions, status
from rest_framework.serializers import Serializer
from standardwebhooks import Webhook as StandardWebhook

from focusflow.api.exceptions import AccountGone, DomainError
from focusflow.api.fields import instant
from focusflow.api.renderers import render_json
from focusflow.api.scopes import InsufficientScope, scope_allowed
from focusflow.webhooks import jobs, transport
from focusflow.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from focusflow.webhooks.secrets import secret_generate, secret_open, secret_seal

EVENTS = (
    "session.started",
    "session.paused",
    "session.resumed",
    "session.stopped",
    "session.logged",
    "session.updated",
    "session.deleted",
    "journal.created",
    "journal.updated",
    "journal.deleted",
)
PING = "ping"
# What a token needs, beside webhooks:manage, to subscribe to an event: to read its objects.
EVENT_SCOPES = {"session": "sessions:read", "journal": "journals:read"}
MAX_WEBHOOKS = 10
# Offsets from the first attempt at which a failed delivery is tried again, then dropped.
SCHEDULE = tuple(
    timedelta(seconds=seconds)
    for seconds in (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)
)
JITTER = 0.1  # each retry within ±10% of its offset's distance from the one before
FAILING_FOR = timedelta(days=3)
SECRET_GRACE = timedelta(hours=24)
VALIDATION_TRIES = 5


class WebhookLimitReached(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = f"An account may have {MAX_WEBHOOKS} webhooks; delete one first."
    default_code = "webhook_limit_reached"


class WebhookNotActive(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This webhook is not active: validate or enable it first."
    default_code = "webhook_not_active"


class ValidationInvalid(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "That is not this webhook's validation code, or it had too many wrong ones: ping it for a new one."
    )
    default_code = "validation_invalid"


REFUSED_URL = (
    "Enter an https:// URL whose host resolves only to public addresses (no credentials in it); "
    "this one cannot be used."
)


# --- What an event says --------------------------------------------------------------------

_payloads: dict[str, type[Serializer]] = {}


def register_webhook_payload(kind: str, serializer: type[Serializer]) -> None:
    """How an app's objects of `kind` (`session`, `journal`) show in their events."""
    _payloads[kind] = serializer


def _body(event: str, at: datetime, data: dict) -> str:
    return render_json({"type": event, "timestamp": instant(at), "data": data}).decode()


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def webhook_event(*, user, event: str, obj=None, object_id: int | None = None) -> int:
    """Record `event` about `obj` (or, for a deletion, `object_id`) for every active webhook of
    `user` subscribed to it, and queue its deliveries, in the caller's transaction. Returns how
    many webhooks it goes to. One indexed query when the account has none."""
    hooks = list(
        Webhook.objects.filter(
            user_id=user.pk, status=Webhook.Status.ACTIVE, events__contains=[event]
        ).values_list("pk", flat=True)
    )
    if not hooks:
        return 0
    at = now()
    if event.endswith(".deleted"):
        data = {"id": object_id if object_id is not None else obj.pk}
    else:
        data = _payloads[event.partition(".")[0]](obj, context={"now": at}).data
    payload = _body(event, at, data)
    messages = WebhookMessage.objects.bulk_create(
        WebhookMessage(id=_message_id(), webhook_id=pk, type=event, payload=payload, created_at=at)
        for pk in hooks
    )
    for message in messages:
        jobs.deliver.defer(message_id=message.pk)
    return len(messages)


# --- Managing webhooks ---------------------------------------------------------------------


def events_scope_check(*, scopes: frozenset[str] | None, events) -> None:
    """A personal access token may subscribe only to events about what it may read."""
    for event in events:
        needed = EVENT_SCOPES.get(event.partition(".")[0])
        if needed and not scope_allowed(scopes, needed):
            raise InsufficientScope(needed)


def url_check(url: str) -> None:
    """400 on `url` for any URL a webhook may not be sent to: one message for every reason."""
    if transport.url_refusal(url) is not None:
        raise exceptions.ValidationError({"url": [REFUSED_URL]})


def _code_hash(webhook_id: int, code: str) -> str:
    return salted_hmac(
        "focusflow.webhooks.validation", f"{webhook_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _ping(webhook: Webhook) -> WebhookMessage:
    """A new ping with a new validation code (the old one no longer counts), queued now."""
    code = secrets.token_urlsafe(24)
    webhook.validation_code_hash, webhook.validation_tries = _code_hash(webhook.pk, code), 0
    webhook.save(update_fields=["validation_code_hash", "validation_tries"])
    at = now()
    message = WebhookMessage.objects.create(
        id=_message_id(),
        webhook=webhook,
        type=PING,
        payload=_body(PING, at, {"webhook": webhook.pk, "validation_code": code}),
        created_at=at,
    )
    jobs.deliver.defer(message_id=message.pk)
    return message


def _lock_account(user) -> None:
    if not get_user_model().objects.select_for_update().filter(pk=user.pk).exists():
        raise AccountGone()


def webhook_create(*, user, url: str, events: list[str], description: str = "") -> tuple[Webhook, str]:
    """A new webhook, pending, and its secret (shown this once); its ping is queued and its
    owner emailed once this commits. The account's row is locked while its webhooks are counted."""
    url_check(url)
    secret = secret_generate()
    with transaction.atomic():
        _lock_account(user)
        if Webhook.objects.filter(user_id=user.pk).count() >= MAX_WEBHOOKS:
            raise WebhookLimitReached()
        webhook = Webhook.objects.create(
            user_id=user.pk, url=url, events=events, description=description, secret=secret_seal(secret)
        )
        _ping(webhook)
        jobs.send_webhook_created.defer(webhook_id=webhook.pk)
    return webhook, secret


def _owned(user, webhook_id: int, *, lock: bool = False) -> Webhook:
    webhooks = Webhook.objects.filter(user_id=user.pk, pk=webhook_id)
    webhook = (webhooks.select_for_update() if lock else webhooks).first()
    if webhook is None:
        raise exceptions.NotFound()
    return webhook


def webhook_get(*, user, webhook_id: int) -> Webhook:
    return _owned(user, webhook_id)


def webhook_update(*, user, webhook_id: int, **changes) -> Webhook:
    """Change `url`, `events`, `description` or `status`. A new URL makes it pending and pings
    it (pending deliveries to the old one are dropped). `status: active` re-enables only a
    webhook validated at its current URL; `disabled` disables it (`owner`)."""
    if "url" in changes:
        url_check(changes["url"])
    with transaction.atomic():
        webhook = _owned(user, webhook_id, lock=True)
        fields = {"updated_at"}
        new_url = "url" in changes and changes["url"] != webhook.url
        for name in ("url", "events", "description"):
            if name in changes:
                setattr(webhook, name, changes[name])
                fields.add(name)
        wanted = changes.get("status")
        if wanted == Webhook.Status.ACTIVE and webhook.status != Webhook.Status.ACTIVE:
            if new_url or webhook.validated_url != webhook.url:
                raise exceptions.ValidationError(
                    {
                        "status": [
                            "Only a webhook validated at its current URL can be made active: validate it."
                        ]
                    }
                )
            webhook.status, webhook.disabled_reason, webhook.failing_since = Webhook.Status.ACTIVE, "", None
            fields |= {"status", "disabled_reason", "failing_since"}
        elif wanted == Webhook.Status.DISABLED and webhook.status != Webhook.Status.DISABLED:
            webhook.status, webhook.disabled_reason = Webhook.Status.DISABLED, Webhook.Disabled.OWNER
            fields |= {"status", "disabled_reason"}
        if new_url:
            # The code of a ping to the old URL validates nothing at the new one.
            webhook.validation_code_hash = ""
            fields.add("validation_code_hash")
            if wanted != Webhook.Status.DISABLED:
                webhook.status, webhook.disabled_reason = Webhook.Status.PENDING, ""
                fields |= {"status", "disabled_reason"}
        webhook.updated_at = now()
        webhook.save(update_fields=sorted(fields))
        if new_url:
            _drop_pending(webhook)  # deliveries to the old URL
            if webhook.status == Webhook.Status.PENDING:
                _ping(webhook)
    return webhook


def _drop_pending(webhook: Webhook) -> None:
    webhook.messages.filter(state=WebhookMessage.State.PENDING).update(
        state=WebhookMessage.State.DROPPED, next_attempt_at=None
    )


def webhook_delete(*, user, webhook_id: int) -> None:
    deleted, _ = Webhook.objects.filter(user_id=user.pk, pk=webhook_id).delete()
    if not deleted:
        raise exceptions.NotFound()


def webhook_ping(*, user, webhook_id: int) -> None:
    """Another ping, with a new validation code (a pending webhook validates with it)."""
    with transaction.atomic():
        webhook = _owned(user, webhook_id, lock=True)
        _ping(webhook)


def webhook_validate(*, user, webhook_id: int, code: str) -> Webhook:
    """The owner read the ping's code at the receiver and sends it: the webhook is active.
    Each code allows VALIDATION_TRIES wrong ones; after them only a new ping helps."""
    with transaction.atomic():
        webhook = _owned(user, webhook_id, lock=True)
        if webhook.status == Webhook.Status.ACTIVE:
            return webhook
        hashed = webhook.validation_code_hash
        if (
            webhook.status == Webhook.Status.PENDING  # a disabled one is enabled by its owner, knowingly
            and webhook.validation_tries < VALIDATION_TRIES
            and bool(hashed)
            and constant_time_compare(hashed, _code_hash(webhook.pk, code))
        ):
            _activate(webhook)
            return webhook
        webhook.validation_tries += 1
        webhook.save(update_fields=["validation_tries"])
    raise ValidationInvalid()  # after the commit: the wrong try stays counted


def _activate(webhook: Webhook) -> None:
    webhook.status, webhook.disabled_reason, webhook.failing_since = Webhook.Status.ACTIVE, "", None
    webhook.validated_url, webhook.validation_code_hash, webhook.updated_at = webhook.url, "", now()
    webhook.save(
        update_fields=[
            "status",
            "disabled_reason",
            "failing_since",
            "validated_url",
            "validation_code_hash",
            "updated_at",
        ]
    )


def webhook_secret_rotate(*, user, webhook_id: int) -> str:
    """A new secret (shown this once); the old one keeps signing beside it for SECRET_GRACE, so
    the receiver can switch without losing a delivery."""
    secret = secret_generate()
    with transaction.atomic():
        webhook = _owned(user, webhook_id, lock=True)
        webhook.previous_secret, webhook.previous_secret_until = webhook.secret, now() + SECRET_GRACE
        webhook.secret, webhook.updated_at = secret_seal(secret), now()
        webhook.save(update_fields=["previous_secret", "previous_secret_until", "secret", "updated_at"])
    return secret


def webhook_redeliver(*, user, webhook_id: int, delivery_id: int) -> None:
    """The event of that attempt once more, now, with the same `webhook-id`."""
    webhook = _owned(user, webhook_id)
    delivery = WebhookDelivery.objects.filter(webhook=webhook, pk=delivery_id).first()
    if delivery is None:
        raise exceptions.NotFound()
    if webhook.status != Webhook.Status.ACTIVE:
        raise WebhookNotActive()
    jobs.deliver.defer(message_id=delivery.message_id, manual=True)


def webhooks_disable(*, user, reason: str) -> None:
    """Disable every webhook of the account that is not disabled yet (a password reset: whoever
    reset it may not be whoever set them up)."""
    Webhook.objects.filter(user_id=user.pk).exclude(status=Webhook.Status.DISABLED).update(
        status=Webhook.Status.DISABLED, disabled_reason=reason, updated_at=now()
    )


def webhooks_list(*, user):
    return Webhook.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def webhooks_export_rows(*, user):
    return Webhook.objects.filter(user_id=user.pk).order_by("pk")


def webhook_deliveries(*, user, webhook_id: int):
    webhook = _owned(user, webhook_id)
    return WebhookDelivery.objects.filter(webhook=webhook).select_related("message")


# --- Delivering ----------------------------------------------------------------------------


def _signature(webhook: Webhook, message: WebhookMessage, at: datetime) -> str:
    secrets_now = [secret_open(webhook.secret)]
    if webhook.previous_secret and webhook.previous_secret_until and webhook.previous_secret_until > at:
        secrets_now.append(secret_open(webhook.previous_secret))
    return " ".join(StandardWebhook(secret).sign(message.id, at, message.payload) for secret in secrets_now)


def signed_headers(webhook: Webhook, message: WebhookMessage, at: datetime) -> dict[str, str]:
    return {
        "webhook-id": message.id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": _signature(webhook, message, at),
    }


def _next_attempt(message: WebhookMessage, *, at: datetime, retry_after: float | None) -> datetime | None:
    """When to try again after attempt number `message.attempts` failed at `at`; None: drop it."""
    if message.attempts >= len(SCHEDULE):
        return None
    offset, before = SCHEDULE[message.attempts], SCHEDULE[message.attempts - 1]
    spread = (offset - before).total_seconds() * JITTER
    planned = message.first_attempt_at + offset + timedelta(seconds=random.uniform(-spread, spread))
    if retry_after is not None:
        planned = max(planned, at + timedelta(seconds=retry_after))
    return max(planned, at + timedelta(seconds=1))


def _validated_by(outcome: transport.Outcome, webhook: Webhook) -> bool:
    """A ping's answer that carries the webhook's current validation code."""
    try:
        answer = json.loads(outcome.body)
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser takes
        return False
    code = answer.get("validation_code") if isinstance(answer, dict) else None
    return (
        isinstance(code, str)
        and bool(webhook.validation_code_hash)
        and constant_time_compare(webhook.validation_code_hash, _code_hash(webhook.pk, code))
    )


@dataclass(frozen=True)
class Attempted:
    delivery: WebhookDelivery
    disabled: str = ""  # the reason, when this attempt disabled the webhook


def webhook_message_attempt(*, message_id: str, manual: bool = False) -> Attempted | None:
    """One attempt of a message, by the worker: sent, logged, and the next one scheduled.
    Nothing for a message gone (its webhook or account was deleted), delivered or dropped
    (unless `manual`: a redelivery asked for), or whose webhook may not get it any more."""
    message = WebhookMessage.objects.select_related("webhook").filter(pk=message_id).first()
    if message is None or (message.state != WebhookMessage.State.PENDING and not manual):
        return None
    webhook = message.webhook
    may_send = webhook.status == Webhook.Status.ACTIVE or (
        message.type == PING and webhook.status == Webhook.Status.PENDING
    )
    if not may_send:
        if not manual:
            _drop(message)
        return None
    at = now()
    outcome = transport.post(
        webhook.url, body=message.payload.encode(), headers=signed_headers(webhook, message, at)
    )
    return _record(message_id, outcome, at=at, manual=manual)


def _drop(message: WebhookMessage) -> None:
    WebhookMessage.objects.filter(pk=message.pk, state=WebhookMessage.State.PENDING).update(
        state=WebhookMessage.State.DROPPED, next_attempt_at=None
    )


def _record(message_id: str, outcome: transport.Outcome, *, at: datetime, manual: bool) -> Attempted | None:
    with transaction.atomic():
        message = WebhookMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return None
        webhook = Webhook.objects.select_for_update().get(pk=message.webhook_id)
        message.attempts += 1
        message.first_attempt_at = message.first_attempt_at or at
        next_at, disabled = None, ""
        if outcome.ok:
            message.state = WebhookMessage.State.DELIVERED
            webhook.failing_since = None
            if (
                message.type == PING
                and webhook.status == Webhook.Status.PENDING
                and _validated_by(outcome, webhook)
            ):
                _activate(webhook)
        elif outcome.status_code == 410:
            message.state = WebhookMessage.State.DROPPED
            disabled = Webhook.Disabled.GONE
        else:
            webhook.failing_since = webhook.failing_since or at
            if not manual and message.state == WebhookMessage.State.PENDING:
                next_at = _next_attempt(message, at=at, retry_after=outcome.retry_after)
                if next_at is None:
                    message.state = WebhookMessage.State.DROPPED
            if at - webhook.failing_since >= FAILING_FOR:
                disabled = Webhook.Disabled.FAILING
        if not manual:  # a redelivery asked for leaves the schedule of the message as it was
            message.next_attempt_at = next_at
        message.save(update_fields=["attempts", "first_attempt_at", "state", "next_attempt_at"])
        if disabled and webhook.status != Webhook.Status.DISABLED:
            webhook.status, webhook.disabled_reason, webhook.updated_at = (
                Webhook.Status.DISABLED,
                disabled,
                at,
            )
            jobs.send_webhook_disabled.defer(webhook_id=webhook.pk)
        else:
            disabled = ""
        webhook.save(update_fields=["failing_since", "status", "disabled_reason", "updated_at"])
        delivery = WebhookDelivery.objects.create(
            webhook=webhook,
            message=message,
            attempt=message.attempts,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_excerpt=outcome.excerpt(),
            delivered_at=at,
            next_attempt_at=next_at,
        )
        if next_at is not None:
            jobs.deliver.configure(schedule_at=next_at).defer(message_id=message.pk)
    return Attempted(delivery=delivery, disabled=disabled)


def webhook_messages_purge(*, older_than: timedelta = timedelta(days=30), at: datetime | None = None) -> int:
    """Delete messages (and their delivery log) older than `older_than` that are no longer
    pending; returns how many went."""
    cutoff = (at or now()) - older_than
    deleted, _ = (
        WebhookMessage.objects.filter(created_at__lt=cutoff)
        .exclude(state=WebhookMessage.State.PENDING)
        .delete()
    )
    return deleted
