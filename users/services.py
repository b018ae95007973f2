"""Account rules: registration, login, profile, password, deletion. Token plumbing lives in
`users.tokens`."""

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.timezone import now
from rest_framework import exceptions

from focusflow.sync.feed import sync_seq_next
from users.emails import normalize_email
from users.models import User
from users.signals import time_zone_changed
from users.tokens import refresh_token_for, refresh_token_logout, refresh_token_rotate

EMAIL_TAKEN = "A user with this email already exists."
PROFILE_FIELDS = ("display_name", "timezone", "daily_goal_minutes")


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = "Incorrect email or password."
    default_code = "invalid_credentials"


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


def _token_pair(refresh) -> dict[str, str]:
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def auth_tokens_for(*, user: User) -> dict[str, str]:
    """A new login: the first tokens of a new family."""
    return _token_pair(refresh_token_for(user))


def auth_login(*, request: HttpRequest, email: str, password: str) -> dict[str, str]:
    """Unknown email, wrong password and inactive account all get the same 401.

    Django's ModelBackend runs the hasher even for an unknown email, so the answer takes as
    long either way and does not reveal which addresses have accounts.
    """
    user = authenticate(request, email=email, password=password)  # the manager normalises it
    if user is None:
        raise InvalidCredentials()
    User.objects.filter(pk=user.pk).update(last_login=now())
    return auth_tokens_for(user=user)


def auth_refresh(*, raw_refresh: str) -> dict[str, str]:
    """Rotate: the presented refresh token is spent and the next pair of its family issued, in
    one transaction. A refresh token used twice (two concurrent refreshes included) is a 401
    and revokes its whole family, the pair its first use issued included."""
    return _token_pair(refresh_token_rotate(raw_refresh))


def auth_logout(*, raw_refresh: str) -> None:
    """This login's tokens stop working at once, its access tokens included; the account's
    other logins (other devices) go on. A deleted account's or a revoked token is a 401."""
    refresh_token_logout(raw_refresh)


def user_update(*, user: User, **fields) -> User:
    """Change the profile fields given (anything else is ignored). A real change takes the
    account's next change number, so the other devices' sync picks the profile up."""
    changed = [name for name in PROFILE_FIELDS if name in fields and fields[name] != getattr(user, name)]
    if not changed:
        return user
    with transaction.atomic():
        user.profile_seq = sync_seq_next(user=user, profile=True)
        for name in changed:
            setattr(user, name, fields[name])
        user.save(update_fields=changed)
        if "timezone" in changed:
            time_zone_changed.send(sender=User, user=user)
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
    """Set the new password and revoke every token issued before it, on every device, the
    access token of this very request included (users.tokens: the token version)."""
    _require_password(user, current_password, field="current_password")
    if problems := password_problems(new_password, user=user):
        raise exceptions.ValidationError({"new_password": problems})
    user.set_password(new_password)  # a new hash: earlier tokens no longer match it
    user.save(update_fields=["password"])


def user_delete(*, user: User, password: str) -> None:
    """The account, its sessions and its journals go; its tokens stop working at once
    (authentication reads the account on every request: users.tokens.token_refusal)."""
    _require_password(user, password, field="password")
    with transaction.atomic():
        # Lock the account first: a session or journal written from another device meanwhile
        # then waits, and fails on its own side (a 401), instead of failing this deletion's
        # foreign-key check at commit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        user.delete()


def user_deactivate(*, user: User) -> User:
    """The account can no longer log in, and its tokens stop working: authentication and
    token refresh refuse an inactive account. Every deactivation (the admin's action, its
    form, its list) ends here, and saves with `save()` so `post_save` receivers see it."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user
