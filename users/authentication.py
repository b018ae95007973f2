"""SimpleJWT's authentication, made total and revocable, beside personal access tokens.

`Authorization: Bearer <token>` carries an access token (a JWT) or a personal access token
(`ffp_...`, users.personal_tokens); `BearerAuthentication` tells them apart by the prefix.

Total: no claim in a signed token can cause a 500. Tokens are signed with our key, so odd
claims only come from someone holding it (or from a future bug of ours); they still get a
401, never a crash or a login as a coerced user id.

Revocable: the account and whether the token's login was revoked are read in one query
(users.tokens.token_holder, in place of SimpleJWT's user lookup), or with a shared cache from
it, invalidated exactly on every change (users.auth_state); users.tokens decides whether the
token still speaks for the account, so logout, a password change, deactivation and deletion
lock its access tokens out at once.
"""

import time

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from users.auth_state import authenticated_holder
from users.personal_tokens import PREFIX, personal_token_authenticate
from users.tokens import is_user_id, token_family, token_refusal

# Access tokens this process has verified, by their text: (expiry, token).
_verified: dict[bytes, tuple[float, Token]] = {}
_VERIFIED_MAX = 10_000


class JWTAuthentication(authentication.JWTAuthentication):
    def get_raw_token(self, header: bytes):
        # The scheme name is case-insensitive (RFC 7235): `bearer <token>` works too.
        scheme, _, rest = header.partition(b" ")
        if scheme.lower() == b"bearer":
            header = b"Bearer " + rest
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        """A token this process already verified is not verified again (an app polls with the
        same one for minutes); its expiry is compared on every request, and whether it is
        revoked is decided afresh every time (get_user). Kept because it pays: verifying costs
        about 106 µs of CPU a request here, a tenth of `GET /api/users/me/` (docs/performance.md)."""
        known = _verified.get(raw_token)
        if known is not None and known[0] > time.time():
            return known[1]
        try:
            token = super().get_validated_token(raw_token)
        except (OverflowError, ValueError, TypeError):
            raise InvalidToken("Token contained no recognizable user identification") from None
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()  # bounded; the next requests verify again
        _verified[raw_token] = (token["exp"], token)
        return token

    def get_user(self, validated_token):
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        family = token_family(validated_token)
        if not is_user_id(user_id) or family is None:
            raise InvalidToken("Token contained no recognizable user identification")
        holder = authenticated_holder(user_id=int(user_id), family=family)
        if refusal := token_refusal(validated_token, holder):
            raise refusal
        return holder.user


_PERSONAL_PREFIX = PREFIX.encode()


class BearerAuthentication(JWTAuthentication):
    """An access token, or a personal access token (`request.auth` is then its
    `PersonalTokenAuth`, which carries its scopes: focusflow.api.scopes)."""

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is not None and raw.startswith(_PERSONAL_PREFIX):
            return personal_token_authenticate(raw.decode("ascii", errors="replace"))
        return super().authenticate(request)


class BearerAuthenticationScheme(SimpleJWTScheme):
    """Documents the bearer scheme in the OpenAPI schema: SimpleJWT's, which also takes a
    personal access token."""

    target_class = "users.authentication.BearerAuthentication"

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        definition["description"] = (
            "An access token from `POST /api/users/login/` (a JWT), or a personal access token "
            "(`ffp_...`) from `POST /api/users/me/tokens/`, limited to its scopes."
        )
        return definition
