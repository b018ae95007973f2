"""What a stream speaks for: the login or the personal access token that opened it, checked
again whenever the account changes and on every heartbeat, by the same rules as every request
(`users.tokens.token_refusal` for a login, `users.personal_tokens` for a token)."""

from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from users.models import User
from users.personal_tokens import PersonalTokenAuth, personal_token_holder
from users.tokens import TOKEN_VERSION_CLAIM, token_family, token_holder, token_refusal


@dataclass(frozen=True)
class Credential:
    user_id: int
    expires_at: float  # epoch seconds: the stream ends then (`event: end`, reason `expired`)
    # A login's: its family and the `tv` claim of the token that opened the stream.
    family: str | None = None
    token_version: str | None = None
    # A personal access token's: its id and scopes (the stream shows only what they may read).
    personal_token_id: int | None = None
    scopes: frozenset[str] | None = None

    @classmethod
    def of_token(cls, token: Token) -> "Credential":
        """The credential of an access token that authenticated a request."""
        return cls(
            user_id=int(token[api_settings.USER_ID_CLAIM]),
            family=token_family(token),
            token_version=token[TOKEN_VERSION_CLAIM],
            expires_at=float(token["exp"]),
        )

    @classmethod
    def of_request(cls, auth) -> "Credential":
        """The credential of whatever authenticated a request: a ticket's, a personal access
        token's, or an access token's."""
        if isinstance(auth, Credential):
            return auth
        if isinstance(auth, PersonalTokenAuth):
            return cls(
                user_id=auth.user_id,
                expires_at=auth.expires_at.timestamp(),
                personal_token_id=auth.token_id,
                scopes=auth.scopes,
            )
        return cls.of_token(auth)

    def check(self) -> tuple[User | None, exceptions.AuthenticationFailed | None]:
        """The account, read again (one query), and whether the credential still speaks for
        it (None) or the error a request would get."""
        if self.personal_token_id is not None:
            return personal_token_holder(user_id=self.user_id, token_id=self.personal_token_id)
        holder = token_holder(user_id=self.user_id, family=self.family)
        return holder.user, token_refusal({TOKEN_VERSION_CLAIM: self.token_version}, holder)
