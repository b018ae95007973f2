"""Refresh tokens that a password change can revoke all at once.

Each refresh token carries the account's `token_version` (claim `tv`) and is recorded as
outstanding (SimpleJWT's blacklist app), so it can be blacklisted on rotation and logout.
"""

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

TOKEN_VERSION_CLAIM = "tv"


def refresh_token_for(user) -> RefreshToken:
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = user.pk
    token[TOKEN_VERSION_CLAIM] = user.token_version
    OutstandingToken.objects.create(
        user=user,
        jti=token[api_settings.JTI_CLAIM],
        token=str(token),
        created_at=token.current_time,
        expires_at=datetime_from_epoch(token["exp"]),
    )
    return token
