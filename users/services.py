"""Account rules: registration, tokens, profile, password, deletion."""

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.timezone import now
from rest_framework import exceptions, status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from users.authentication import is_user_id
from users.models import User, normalize_email
from users.tokens import refresh_token_for, token_version_matches

EMAIL_TAKEN = "A user with this email already exists."
JTI_MAX_LENGTH = 255  # OutstandingToken.jti


class InvalidCredentials(exceptions.AuthenticationFailed):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Incorrect email or password."
    default_code = "invalid_credentials"


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The refresh token is invalid, expired or revoked."
    default_code = "token_not_valid"


def user_register(*, email: str, password: str, display_name: str = "", timezone: str = "UTC") -> User:
    """Create an account. Two concurrent registrations of one address: the second is a 400."""
    errors: dict[str, list[str]] = {}
    if User.objects.filter_by_email(email).exists():
        errors["email"] = [EMAIL_TAKEN]
    candidate = User(email=normalize_email(email), display_name=display_name)
    if problems := password_problems(password, user=candidate):
        errors["password"] = problems
    if errors:
        raise exceptions.ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email, password=password, display_name=display_name, timezone=timezone
            )
    except IntegrityError:
        raise exceptions.ValidationError({"email": [EMAIL_TAKEN]}) from None


def auth_tokens_for(*, user: User) -> dict[str, str]:
    refresh = refresh_token_for(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def auth_login(*, request, email: str, password: str) -> dict[str, str]:
    """Unknown email, wrong password and inactive account all get the same 401.

    Django's ModelBackend runs the hasher even for an unknown email, so the answer takes as
    long either way and does not reveal which addresses have accounts.
    """
    user = authenticate(request, email=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    User.objects.filter(pk=user.pk).update(last_login=now())
    return auth_tokens_for(user=user)


def _verified_refresh(raw: str) -> RefreshToken:
    """Signature, expiry, type and blacklist checked; any failure is a 401 (odd claims in a
    validly signed token too, rather than a crash)."""
    try:
        token = RefreshToken(raw)
        datetime_from_epoch(token["exp"])
    except (TokenError, KeyError, OverflowError, ValueError, TypeError) as exc:
        raise InvalidRefreshToken(str(exc) if isinstance(exc, TokenError) else None) from None
    jti = token.get(api_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not 0 < len(jti) <= JTI_MAX_LENGTH:
        raise InvalidRefreshToken()
    if not is_user_id(token.get(api_settings.USER_ID_CLAIM)):
        raise InvalidRefreshToken()
    return token


def _token_user(token: RefreshToken) -> User:
    """The token's account if it still exists, is active and has not revoked the token."""
    user_id = int(token[api_settings.USER_ID_CLAIM])
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise InvalidRefreshToken("No active account found for the given token.")
    if not token_version_matches(token, user):
        raise InvalidRefreshToken("The refresh token was revoked by a password change.")
    return user


def _blacklist(token: RefreshToken, *, user: User | None) -> bool:
    """Blacklist the token; False when it already was (a concurrent use won the race)."""
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


def auth_refresh(*, raw_refresh: str) -> dict[str, str]:
    """Rotate: the presented refresh token is spent and a new pair is issued.

    Two concurrent refreshes with one token: exactly one gets new tokens, the other a 401.
    """
    token = _verified_refresh(raw_refresh)
    user = _token_user(token)
    with transaction.atomic():
        if not _blacklist(token, user=user):
            raise InvalidRefreshToken("Token is blacklisted")
        return auth_tokens_for(user=user)


def auth_logout(*, raw_refresh: str) -> None:
    token = _verified_refresh(raw_refresh)
    user = _token_user(token)  # a deleted account's or revoked token is a bad token: 401
    with transaction.atomic():
        if not _blacklist(token, user=user):
            raise InvalidRefreshToken("Token is blacklisted")


def user_update(*, user: User, **fields) -> User:
    allowed = {"display_name", "timezone", "daily_goal_minutes"}
    changed = [name for name in fields if name in allowed]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)
    return user


def password_problems(password: str, *, user: User) -> list[str]:
    """Django's password validators (length, similarity to the email, common, numeric)."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def _require_password(user: User, password: str, *, field: str) -> None:
    if not user.check_password(password):
        raise exceptions.ValidationError({field: ["The password is incorrect."]})


def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Set the new password and revoke every refresh token issued before it."""
    _require_password(user, current_password, field="current_password")
    if problems := password_problems(new_password, user=user):
        raise exceptions.ValidationError({"new_password": problems})
    user.set_password(new_password)  # a new hash: earlier refresh tokens no longer match it
    user.save(update_fields=["password"])


def user_delete(*, user: User, password: str) -> None:
    """The account, its sessions and its journals go; its access tokens stop working at once
    (authentication looks the account up on every request)."""
    _require_password(user, password, field="password")
    with transaction.atomic():
        # Lock the account first: a session or journal written from another device meanwhile
        # then waits, and fails on its own side (a 401), instead of failing this deletion's
        # foreign-key check at commit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        user.delete()
