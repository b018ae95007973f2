"""Refresh tokens that a password change can revoke all at once.

Each refresh token carries a fingerprint of the account's password hash (claim `tv`), the way
Django ties sessions to the password: a new password, set anywhere (the API, the admin,
`manage.py changepassword`), changes the hash and so revokes every refresh token issued
before. Tokens are also recorded as outstanding (SimpleJWT's blacklist app), so they can be
blacklisted on rotation and logout.
"""

from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

TOKEN_VERSION_CLAIM = "tv"


def token_version(user) -> str:
    return salted_hmac("focusflow.refresh-token-version", user.password, algorithm="sha256").hexdigest()[:32]


def token_version_matches(token, user) -> bool:
    claim = token.get(TOKEN_VERSION_CLAIM)
    return isinstance(claim, str) and constant_time_compare(claim, token_version(user))


def refresh_token_for(user) -> RefreshToken:
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = user.pk
    token[TOKEN_VERSION_CLAIM] = token_version(user)
    OutstandingToken.objects.create(
        user=user,
        jti=token[api_settings.JTI_CLAIM],
        token=str(token),
        created_at=token.current_time,
        expires_at=datetime_from_epoch(token["exp"]),
    )
    return token
