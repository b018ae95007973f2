"""Personal access tokens: for scripts and integrations that should not hold a password or a
login's tokens.

A token is `ffp_`, 30 random base62 characters (178 bits), and 6 base62 characters of their
CRC32, GitHub's scheme: a secret scanner recognises a leaked token by its prefix and checksum,
without asking us, and a token mistyped or cut short is refused before any query. Only its
keyed hash (HMAC-SHA256 with the server's key) is stored, so a copy of the database holds no
working token; a request finds its token by that hash (unique, indexed), and its account as
every request does (users.auth_state).

A token ends when it expires, when it is deleted, with any new password (`User.save` deletes
the account's tokens in the transaction that sets it, whoever sets it), and with its account.
`last_used_at` is kept to the minute: written by a request only when the minute it shows is
over, so a script polling every second costs one write a minute, not one a request.
"""

import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now
from rest_framework import exceptions, status

from focusflow.api.exceptions import AccountGone, DomainError
from focusflow.api.scopes import SCOPES, Scoped
from users import jobs
from users.auth_state import account_changed, authenticated_holder
from users.models import PersonalAccessToken, User
from users.tokens import AccountInactive, TokenRevoked, password_version

PREFIX = "ffp_"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH, CHECKSUM_LENGTH = 30, 6
TOKEN_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
MAX_LIVE_TOKENS = 20
DEFAULT_DAYS, MAX_DAYS = 90, 365


class TokenLimitReached(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = f"An account may have {MAX_LIVE_TOKENS} live personal access tokens; delete one first."
    default_code = "token_limit_reached"


class PersonalTokenInvalid(exceptions.AuthenticationFailed):
    default_detail = "The personal access token is unknown, expired or revoked."
    default_code = "token_not_valid"


# --- The token's text ------------------------------------------------------------------------


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def token_generate() -> str:
    body = "".join(secrets.choice(_BASE62) for _ in range(RANDOM_LENGTH))
    return PREFIX + body + _checksum(body)


def token_well_formed(raw: str) -> bool:
    """Whether `raw` has a token's shape and its checksum adds up (no query needed)."""
    if len(raw) != TOKEN_LENGTH or not raw.startswith(PREFIX) or not raw.isascii():
        return False
    body, checksum = raw[len(PREFIX) : -CHECKSUM_LENGTH], raw[-CHECKSUM_LENGTH:]
    return all(char in _BASE62 for char in body) and constant_time_compare(checksum, _checksum(body))


def _digest(raw: str, *, key: str | None = None) -> str:
    return salted_hmac("focusflow.personal-access-token", raw, secret=key, algorithm="sha256").hexdigest()


def _digests(raw: str) -> list[str]:
    """Its hash under the server's key and under each earlier one still accepted
    (DJANGO_SECRET_KEY_FALLBACKS), so rotating the key does not revoke every token."""
    return [_digest(raw, key=key) for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)]


# --- Writes ----------------------------------------------------------------------------------


def scopes_canonical(scopes) -> list[str]:
    """Each scope once, in the order `SCOPES` lists them."""
    return [scope for scope in SCOPES if scope in set(scopes)]


def _live(user):
    return PersonalAccessToken.objects.filter(user=user, expires_at__gt=now())


def personal_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int = DEFAULT_DAYS,
    password_version_seen: str | None,
) -> tuple[PersonalAccessToken, str]:
    """A new token of `user`, and its text (shown this once). The account's row is locked
    while the live tokens are counted, so of two devices racing for the last place only one
    gets it; under the lock, the account's password must still be the one the request's login
    was issued under (`password_version_seen`): a password changed meanwhile ended that login,
    and the token it asks for would outlive it. The owner is emailed, by the worker, once this
    commits."""
    with transaction.atomic():
        current = (
            User.objects.select_for_update().filter(pk=user.pk).values_list("password", flat=True).first()
        )
        if current is None:
            raise AccountGone()
        if password_version_seen is not None and password_version(current) != password_version_seen:
            raise TokenRevoked("The token was revoked by a password change.")
        if _live(user).count() >= MAX_LIVE_TOKENS:
            raise TokenLimitReached()
        raw = token_generate()
        created_at = now()
        token = PersonalAccessToken.objects.create(
            user=user,
            name=name,
            digest=_digest(raw),
            prefix=raw[len(PREFIX) : len(PREFIX) + 8],
            scopes=scopes_canonical(scopes),
            created_at=created_at,
            expires_at=created_at + timedelta(days=expires_in_days),
        )
        jobs.send_personal_token_created.defer(token_id=token.pk)
    return token, raw


def personal_token_delete(*, user: User, token_id: int) -> bool:
    """Delete one of `user`'s tokens: it stops working at once, its streams within seconds.
    False when it has no such token."""
    deleted, _ = PersonalAccessToken.objects.filter(user=user, pk=token_id).delete()
    if deleted:
        account_changed(user.pk)  # its open streams look at their credential again
    return bool(deleted)


def personal_tokens_purge(*, at: datetime | None = None) -> int:
    """Delete expired tokens; returns how many went."""
    _, deleted = PersonalAccessToken.objects.filter(expires_at__lte=at or now()).delete()
    return deleted.get(PersonalAccessToken._meta.label, 0)  # not the tickets they bought


# --- Reads -----------------------------------------------------------------------------------


def personal_tokens_live(*, user: User):
    """The account's tokens that still work, newest first."""
    return _live(user).order_by("-created_at", "-pk")


def personal_tokens_export_rows(*, user: User):
    """Every token the account holds, expired ones not yet purged included, oldest first."""
    return PersonalAccessToken.objects.filter(user=user).order_by("pk")


@dataclass(frozen=True)
class PersonalTokenAuth(Scoped):
    """`request.auth` of a request made with a personal access token."""

    user_id: int
    expires_at: datetime


# A token is not a login: no revoked login (users.tokens) is ever named this.
_NOT_A_LOGIN = ""


def _refusal(user: User | None) -> exceptions.AuthenticationFailed | None:
    if user is None:
        return PersonalTokenInvalid()
    if not user.is_active:
        return AccountInactive()
    return None


def personal_token_authenticate(raw: str) -> tuple[User, PersonalTokenAuth]:
    """The account a token speaks for and what it may do; 401 for a token that is malformed,
    unknown, expired or revoked, or whose account is inactive. One query for the token (its
    deletion counts at once), the account as every request reads it (users.auth_state: from
    the shared cache while current), and a write at most once a minute (`last_used_at`)."""
    if not token_well_formed(raw):
        raise PersonalTokenInvalid()
    at = now()
    row = (
        PersonalAccessToken.objects.filter(digest__in=_digests(raw), expires_at__gt=at)
        .values_list("pk", "user_id", "scopes", "expires_at", "last_used_at")
        .first()
    )
    if row is None:
        raise PersonalTokenInvalid()
    token_id, user_id, scopes, expires_at, last_used_at = row
    user = authenticated_holder(user_id=user_id, family=_NOT_A_LOGIN).user
    if refusal := _refusal(user):
        raise refusal
    minute = at.replace(second=0, microsecond=0)
    if last_used_at is None or last_used_at < minute:
        # Of several requests in a new minute, the first writes; the condition stops the rest.
        PersonalAccessToken.objects.filter(pk=token_id).exclude(last_used_at__gte=minute).update(
            last_used_at=minute
        )
    return user, PersonalTokenAuth(
        scopes=frozenset(scopes), token_id=token_id, user_id=user_id, expires_at=expires_at
    )


def personal_token_holder(
    *, user_id: int, token_id: int
) -> tuple[User | None, exceptions.AuthenticationFailed | None]:
    """The account of a token that opened a stream, and whether the token still speaks for it
    (None) or the error a request would get, read again: one query."""
    token = (
        PersonalAccessToken.objects.select_related("user")
        .filter(pk=token_id, user_id=user_id, expires_at__gt=now())
        .first()
    )
    user = token.user if token else None
    return user, _refusal(user)
