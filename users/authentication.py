"""SimpleJWT's authentication, made total: no claim in a signed token can cause a 500.

Tokens are signed with our key, so odd claims only come from someone holding it (or from a
future bug of ours); they still get a 401, never a crash or a login as a coerced user id.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings


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


class JWTAuthentication(authentication.JWTAuthentication):
    def get_raw_token(self, header: bytes):
        # The scheme name is case-insensitive (RFC 7235): `bearer <token>` works too.
        scheme, _, rest = header.partition(b" ")
        if scheme.lower() == b"bearer":
            header = b"Bearer " + rest
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        try:
            return super().get_validated_token(raw_token)
        except (OverflowError, ValueError, TypeError):
            raise InvalidToken("Token contained no recognizable user identification") from None

    def get_user(self, validated_token):
        if not is_user_id(validated_token.get(api_settings.USER_ID_CLAIM)):
            raise InvalidToken("Token contained no recognizable user identification")
        return super().get_user(validated_token)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """Documents the subclass in the OpenAPI schema as SimpleJWT's bearer scheme."""

    target_class = "users.authentication.JWTAuthentication"
