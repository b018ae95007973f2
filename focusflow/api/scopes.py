"""What a personal access token may do: its scopes, and the permission every API view checks
them with.

A request made with a login (an access token, or a ticket bought with one) may do everything
its account may. A request made with a personal access token carries a `Scoped` credential
(`request.auth`), and reaches only what its scopes name. Each viewset says what it needs:

    token_scopes = ("sessions:read", "sessions:write")   # (safe methods, other methods)

and a handler may say otherwise with `@token_scope(...)`: `ANY_TOKEN` (any token may, whatever
its scopes: the profile, the quote, sync) or `LOGINS_ONLY` (no token may: the account's own
operations). A view that declares nothing is refused to every token, so an endpoint added
later cannot leak to tokens by default. `APIViewSet` adds the permission to every view, even
one that sets its own `permission_classes`.
"""

from dataclasses import dataclass
from typing import Any

from rest_framework import permissions, serializers, status
from rest_framework.fields import Field

from focusflow.api.exceptions import DomainError
from focusflow.throttling.limits import PERSONAL_TOKENS
from focusflow.throttling.throttles import LimitThrottle

SESSIONS_READ, SESSIONS_WRITE = "sessions:read", "sessions:write"
JOURNALS_READ, JOURNALS_WRITE = "journals:read", "journals:write"
WEBHOOKS_MANAGE = "webhooks:manage"
SCOPES = (SESSIONS_READ, SESSIONS_WRITE, JOURNALS_READ, JOURNALS_WRITE, WEBHOOKS_MANAGE)
# A scope that writes lets its holder read what it writes.
IMPLIED = {SESSIONS_WRITE: SESSIONS_READ, JOURNALS_WRITE: JOURNALS_READ}

ANY_TOKEN = "any"
LOGINS_ONLY = None


@dataclass(frozen=True)
class Scoped:
    """A credential limited to scopes (`request.auth` of a personal access token's request)."""

    scopes: frozenset[str]
    token_id: int

    def allows(self, scope: str | None) -> bool:
        return scope_allowed(self.scopes, scope)


def scope_allowed(scopes: frozenset[str] | None, scope: str | None) -> bool:
    """Whether a credential with `scopes` (None: a login, which may do everything) may do what
    needs `scope` (ANY_TOKEN: any credential; None: logins only)."""
    if scopes is None or scope == ANY_TOKEN:
        return True
    return scope is not None and (scope in scopes or any(IMPLIED.get(held) == scope for held in scopes))


def scopes_of(auth) -> frozenset[str] | None:
    """The scopes of a request's credential; None for a login."""
    return auth.scopes if isinstance(auth, Scoped) else None


class InsufficientScope(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "This personal access token's scopes do not allow this; the scope it needs is `required_scope`."
    )
    default_code = "insufficient_scope"
    LOGINS_ONLY_DETAIL = (
        "No personal access token may do this (the account, its password, email, export and "
        "tokens are managed with a login); `required_scope` is null."
    )

    def __init__(self, required_scope: str | None) -> None:
        super().__init__(self.default_detail if required_scope else self.LOGINS_ONLY_DETAIL)
        self.required_scope = required_scope

    @property
    def data_fields(self) -> dict[str, Any]:
        return {"required_scope": self.required_scope}

    @classmethod
    def data_schema(cls, serializer=None) -> dict[str, Field]:
        return {
            "required_scope": serializers.ChoiceField(
                choices=SCOPES,
                allow_null=True,
                help_text="The scope a token needs for this; null where no token may do it.",
            )
        }


def token_scope(scope: str | None):
    """Decorate a viewset's handler with the scope a token needs for it, over the viewset's
    `token_scopes`: a scope, ANY_TOKEN or LOGINS_ONLY."""

    def decorate(handler):
        handler.token_scope = scope
        return handler

    return decorate


_UNDECLARED = object()


def required_scope(view, method: str) -> str | None:
    """The scope a token needs for this view's handler of `method`: the handler's own
    (`@token_scope`), else the viewset's `token_scopes`, else LOGINS_ONLY."""
    handler = view.handler() if hasattr(view, "handler") else None
    declared = getattr(handler, "token_scope", _UNDECLARED)
    if declared is not _UNDECLARED:
        return declared
    pair = getattr(view, "token_scopes", None)
    if pair is None:
        return LOGINS_ONLY
    return pair[0] if method in permissions.SAFE_METHODS else pair[1]


class TokenScopePermission(permissions.BasePermission):
    """A personal access token reaches only what its scopes allow: 403 `insufficient_scope`,
    naming the scope it needed. Logins pass."""

    def has_permission(self, request, view) -> bool:
        scopes = scopes_of(request.auth)
        if scopes is None:
            return True
        needed = required_scope(view, request.method)
        if not scope_allowed(scopes, needed):
            raise InsufficientScope(needed)
        return True


class PersonalTokenThrottle(LimitThrottle):
    """Every request of a personal access token, counted per token (TOKEN_THROTTLE_RATE), in
    place of its account's read and write limits."""

    limit = PERSONAL_TOKENS
    description = "too many requests with this personal access token"

    def applies(self, request, view) -> bool:
        return isinstance(request.auth, Scoped)

    def counted_wait(self, request, view) -> float | None:
        return self.limit.hit(f"token:{request.auth.token_id}")

    @classmethod
    def documented_for(cls, *, method: str, public: bool) -> bool:
        return not public
