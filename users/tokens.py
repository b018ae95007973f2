"""Tokens: issued, spent once, and revoked at once, access tokens included.

Every token (access and refresh) carries two claims besides the account's id:

- `tv`, the token version: a fingerprint of the account's password hash, the way Django ties
  sessions to the password. A new password, set anywhere (the API, the admin, `manage.py
  changepassword`), changes the hash and so revokes every token issued before it.
- `fam`, the family: the jti of the refresh token issued at login, carried through every
  rotation and into every access token issued from them. Logout revokes its family; so does
  presenting a refresh token that was already rotated (OAuth 2.0 Security BCP, refresh token
  reuse: the stolen copy and the legitimate one cannot be told apart, so both lose). Other
  logins of the account, on other devices, are other families and are not touched.

Revoked families are rows of RevokedTokenFamily. Whether a token still speaks for its account
is decided by one function, `token_refusal`, from the account's row and whether the token's
family is revoked; `token_holder` reads both in one query, so authenticating a request costs
what SimpleJWT's own user lookup did. A cache in front of that query only has to hand
`token_refusal` the same snapshot.

Refresh tokens are also recorded as outstanding (SimpleJWT's blacklist app); spending one
(rotation, logout) blacklists it, exactly once even when two requests race.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch

from focusflow.api.exceptions import AccountGone
from users.models import RevokedTokenFamily, User

TOKEN_VERSION_CLAIM = "tv"
FAMILY_CLAIM = "fam"
JTI_MAX_LENGTH = OutstandingToken._meta.get_field("jti").max_length
FAMILY_MAX_LENGTH = RevokedTokenFamily._meta.get_field("family").max_length


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    default_detail = "The refresh token is invalid, expired or revoked."
    default_code = "token_not_valid"


class TokenRevoked(exceptions.AuthenticationFailed):
    default_detail = "The token was revoked."
    default_code = "token_not_valid"


class AccountInactive(exceptions.AuthenticationFailed):
    default_detail = "User is inactive"
    default_code = "user_inactive"


REVOKED_BY_PASSWORD = "The token was revoked by a password change."
REVOKED_FAMILY = "The token was revoked: its login was logged out or its refresh token reused."
REUSED = "This refresh token was already used; every token of its login is now revoked."


def is_user_id(value) -> bool:
    """A positive id, as SimpleJWT writes it (a decimal string) or as an int; not a bool,
    a float or anything Django would coerce into some other account's id."""
    if type(value) is int:
        return value > 0
    return (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and 0 < len(value) < 19
        and int(value) > 0
    )


def token_version(user: User) -> str:
    return password_version(user.password)


def password_version(password_hash: str) -> str:
    """The `tv` claim of tokens issued under this password hash."""
    return salted_hmac("focusflow.refresh-token-version", password_hash, algorithm="sha256").hexdigest()[:32]


def token_family(token: Token) -> str | None:
    """The family a token belongs to; None when it names none a family could be. A refresh
    token issued before families existed is a family of its own."""
    family = token.get(FAMILY_CLAIM)
    if family is None and token.get(api_settings.TOKEN_TYPE_CLAIM) == "refresh":
        family = token.get(api_settings.JTI_CLAIM)
    if isinstance(family, str) and 0 < len(family) <= FAMILY_MAX_LENGTH:
        return family
    return None


# --- the rule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenHolder:
    """What the rule needs to know about a token's account: its row (None when it is gone)
    and whether the token's family was revoked."""

    user: User | None
    family_revoked: bool
    token_version: str | None  # of the account's current password; None when it is gone


def token_holder(*, user_id: int, family: str) -> TokenHolder:
    """The account and its family's revocation, in one query."""
    revoked = RevokedTokenFamily.objects.filter(user_id=OuterRef("pk"), family=family)
    user = User.objects.filter(pk=user_id).annotate(family_revoked=Exists(revoked)).first()
    return TokenHolder(
        user=user,
        family_revoked=bool(user and user.family_revoked),
        token_version=token_version(user) if user else None,
    )


def token_refusal(token: Token, holder: TokenHolder) -> exceptions.AuthenticationFailed | None:
    """Whether a validly signed, unexpired token still speaks for its account: None if it
    does, else the error to answer. The one place this is decided, for access and refresh
    tokens alike: the account must exist and be active, its password be the one the token was
    issued under, and the token's login must not have been revoked."""
    user = holder.user
    if user is None:
        return AccountGone()
    if not user.is_active:
        return AccountInactive()
    claim = token.get(TOKEN_VERSION_CLAIM)
    if not (isinstance(claim, str) and constant_time_compare(claim, holder.token_version)):
        return TokenRevoked(REVOKED_BY_PASSWORD)
    if holder.family_revoked:
        return TokenRevoked(REVOKED_FAMILY)
    return None


# --- refresh tokens ------------------------------------------------------------------------


def _outstanding_fields(token: RefreshToken, user: User) -> dict:
    """The outstanding-token row of a refresh token, built in one place."""
    return {
        "user": user,
        "token": str(token),
        "created_at": token.current_time,
        "expires_at": datetime_from_epoch(token["exp"]),
    }


def refresh_token_for(user: User, *, family: str | None = None) -> RefreshToken:
    """A refresh token of `family`, or the first of a new family (a login). Its
    `access_token` inherits the account, version and family claims."""
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = user.pk
    token[TOKEN_VERSION_CLAIM] = token_version(user)
    token[FAMILY_CLAIM] = family or token[api_settings.JTI_CLAIM]
    OutstandingToken.objects.create(jti=token[api_settings.JTI_CLAIM], **_outstanding_fields(token, user))
    return token


class _PresentedRefreshToken(RefreshToken):
    """SimpleJWT refuses a blacklisted token as it reads it; here whether it was spent before
    is _spend's question, because the answer revokes the token's whole family."""

    def check_blacklist(self) -> None:
        pass


def _verified(raw: str) -> RefreshToken:
    """Signature, expiry and type checked; any failure is a 401. A validly signed token with
    odd claims (a non-numeric user id, a jti the outstanding-token table cannot hold) is a 401
    too, rather than a crash."""
    try:
        token = _PresentedRefreshToken(raw)
        datetime_from_epoch(token["exp"])
    except (TokenError, KeyError, OverflowError, ValueError, TypeError) as exc:
        raise InvalidRefreshToken(str(exc) if isinstance(exc, TokenError) else None) from None
    jti = token.get(api_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not 0 < len(jti) <= JTI_MAX_LENGTH:
        raise InvalidRefreshToken()
    if not is_user_id(token.get(api_settings.USER_ID_CLAIM)) or token_family(token) is None:
        raise InvalidRefreshToken()
    return token


class _Reused(Exception):
    def __init__(self, user: User, family: str) -> None:
        self.user, self.family = user, family


def _spend(raw: str) -> tuple[User, str]:
    """Use up a refresh token and return its account and family. Of two requests spending one
    token at once, exactly one succeeds; the other, and any later use, raises _Reused."""
    token = _verified(raw)
    family = token_family(token)
    holder = token_holder(user_id=int(token[api_settings.USER_ID_CLAIM]), family=family)
    if refusal := token_refusal(token, holder):
        raise InvalidRefreshToken(str(refusal.detail))
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM], defaults=_outstanding_fields(token, holder.user)
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise _Reused(holder.user, family)
    return holder.user, family


def token_family_revoke(*, user: User, family: str) -> None:
    """Revoke every token of a login, refresh and access tokens alike, at once. The row is
    kept as long as any token of the family could still be unexpired."""
    lifetime = max(api_settings.REFRESH_TOKEN_LIFETIME, api_settings.ACCESS_TOKEN_LIFETIME)
    try:
        with transaction.atomic():
            RevokedTokenFamily.objects.create(user=user, family=family, expires_at=now() + lifetime)
    except IntegrityError:
        pass  # revoked already (or the account is being deleted): either way, revoked


def refresh_token_rotate(raw: str) -> RefreshToken:
    """Spend a refresh token and issue the next one of its family, in one transaction. A token
    spent before (rotated or logged out) revokes its whole family, the token its rotation
    issued included, and is a 401."""
    try:
        with transaction.atomic():
            user, family = _spend(raw)
            return refresh_token_for(user, family=family)
    except _Reused as reuse:
        token_family_revoke(user=reuse.user, family=reuse.family)  # after the rollback, kept
        raise InvalidRefreshToken(REUSED) from None


def refresh_token_logout(raw: str) -> None:
    """Spend a refresh token and revoke its family: this login's access tokens stop working at
    once; the account's other logins go on."""
    try:
        with transaction.atomic():
            user, family = _spend(raw)
            token_family_revoke(user=user, family=family)
    except _Reused as reuse:
        token_family_revoke(user=reuse.user, family=reuse.family)
        raise InvalidRefreshToken(REUSED) from None


def revoked_token_families_purge(*, at=None) -> int:
    """Delete revocations no token can outlive any more; returns how many went."""
    deleted, _ = RevokedTokenFamily.objects.filter(expires_at__lte=at or now()).delete()
    return deleted


def token_families_revoke(*, user: User, keep: str | None = None) -> None:
    """End every login of the account (every family with a refresh token still unexpired),
    but `keep`'s. Each revocation is a row, so every app server sees it at once (users.auth_state)."""
    families = set()
    for raw in OutstandingToken.objects.filter(user=user, expires_at__gt=now()).values_list(
        "token", flat=True
    ):
        try:
            family = token_family(RefreshToken(raw, verify=False))
        except TokenError:
            continue
        if family is not None:
            families.add(family)
    for family in families - {keep}:
        token_family_revoke(user=user, family=family)
