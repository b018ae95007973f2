"""What a stream speaks for: the login (or, later, the token) that opened it, checked again
whenever the account changes and on every heartbeat, by the same rule as every request
(`users.tokens.token_refusal`)."""

from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from users.tokens import TOKEN_VERSION_CLAIM, TokenHolder, token_family, token_refusal


@dataclass(frozen=True)
class Credential:
    user_id: int
    family: str
    token_version: str
    expires_at: float  # epoch seconds: the stream ends then (`event: end`, reason `expired`)

    @classmethod
    def of_token(cls, token: Token) -> "Credential":
        """The credential of an access token that authenticated a request."""
        return cls(
            user_id=int(token[api_settings.USER_ID_CLAIM]),
            family=token_family(token),
            token_version=token[TOKEN_VERSION_CLAIM],
            expires_at=float(token["exp"]),
        )

    def refusal(self, holder: TokenHolder) -> exceptions.AuthenticationFailed | None:
        """Whether it still speaks for the account (None) or the error a request would get."""
        return token_refusal({TOKEN_VERSION_CLAIM: self.token_version}, holder)
