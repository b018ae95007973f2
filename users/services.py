"""Account rules: registration, login, profile, password, deletion, and recovery (reset,
verification, email change). Token plumbing lives in `users.tokens`, links and codes in
`users.recovery`, the emails in `users.mail` (sent by the worker: `users.jobs`)."""

from collections.abc import Callable

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.timezone import now
from rest_framework import exceptions

from focusflow.sync.feed import sync_seq_next
from focusflow.throttling.limits import WRONG_CODES
from focusflow.webhooks.models import Webhook
from focusflow.webhooks.services import webhooks_disable
from users import jobs
from users.emails import normalize_email
from users.exceptions import ResetInvalid, VerificationInvalid
from users.models import AccountLink, User
from users.recovery import (
    Purpose,
    address_held,
    code_link,
    link_by_token,
    link_issue,
    link_spend,
    reset_requested,
    reset_superseded,
)
from users.signals import daily_goal_changed, time_zone_changed
from users.tokens import (
    refresh_token_for,
    refresh_token_logout,
    refresh_token_rotate,
    token_families_revoke,
)

EMAIL_TAKEN = "A user with this email already exists."
PROFILE_FIELDS = ("display_name", "timezone", "daily_goal_minutes")


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = "Incorrect email or password."
    default_code = "invalid_credentials"


def user_register(*, email: str, password: str, display_name: str = "", timezone: str = "UTC") -> User:
    """Create an account. Two concurrent registrations of one address: the second is a 400."""
    errors: dict[str, list[str]] = {}
    if User.objects.filter_by_email(email).exists() or address_held(email):
        errors["email"] = [EMAIL_TAKEN]
    candidate = User(email=normalize_email(email), display_name=display_name)
    if problems := password_problems(password, user=candidate):
        errors["password"] = problems
    if errors:
        raise exceptions.ValidationError(errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, display_name=display_name, timezone=timezone
            )
            _link_mail(user=user, purpose=Purpose.VERIFY, email=user.email)
            return user
    except IntegrityError:
        raise exceptions.ValidationError({"email": [EMAIL_TAKEN]}) from None


def _link_mail(*, user: User, purpose: str, email: str) -> AccountLink:
    """Issue a link and have the worker mail it, in the caller's transaction."""
    link = link_issue(user=user, purpose=purpose, email=email)
    jobs.send_link.defer(link_id=link.pk)
    return link


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
        if "daily_goal_minutes" in changed:
            daily_goal_changed.send(sender=User, user=user)
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
    with transaction.atomic():
        if user.pending_email:  # the profile changes: its pending_email goes
            user.profile_seq = sync_seq_next(user=user, profile=True)
        user.set_password(new_password)  # a new hash: earlier tokens no longer match it
        user.save(update_fields=["password"])  # and voids the account's links (User.save)


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


# --- Recovery: password reset, email verification, email change ------------------------------

# Counts a code about to be checked against the account it names; raises to refuse it.
CodeCounter = Callable[[str], None]
CURRENT_EMAIL = "This is already the email address of your account."


def _code_link(
    *, purpose: str, code: str, count_code: CodeCounter, email: str | None = None, user: User | None = None
) -> AccountLink | None:
    """The link of `purpose` of the account with `email` (or of `user`) if `code` is its code.
    Every code tried is counted before it is checked: by the caller's `count_code(email)` (the
    rate limit; it raises to refuse), against the account's WRONG_CODES a day (after which only
    links work), and by taking one of the link's tries (users.recovery.code_link). The same
    work whether or not an account has the email."""
    account = email or user.email
    count_code(account)
    if WRONG_CODES.hit(f"account:{account}") is not None:
        return None
    return code_link(purpose=purpose, code=code, email=email, user=user)


def _uncounted(account: str) -> None:
    """For callers with no rate limit of their own to count codes against (tests, the shell)."""


def password_reset_request(*, email: str) -> None:
    """Record the request (which voids the address's older reset links) and queue the reset for
    the worker, which finds the account, if any, and mails it. Nothing else: an address with an
    account and one without cost the same two statements, write one row each, and take the same
    time."""
    requested_at = now()
    reset_requested(email, at=requested_at)  # voids the links of older requests
    jobs.send_password_reset.defer(email=email, requested_at=requested_at.isoformat(timespec="microseconds"))


def password_reset_confirm(
    *,
    new_password: str,
    token: str | None = None,
    email: str | None = None,
    code: str | None = None,
    count_code: CodeCounter = _uncounted,
) -> None:
    """Set a new password with a reset link's token, or with the account's email and the
    code. A weak password is refused before anything is spent or counted. Then every login
    ends (the new hash: users.tokens), and every personal access token, every other link and
    code is void, every webhook is disabled, the address counts as verified (the reset proved
    it is read), and its owner is told by email."""
    if token is not None:
        link = link_by_token(token, purposes=[Purpose.RESET])
        if link is None or not link.user.is_active:
            raise ResetInvalid()
        user = link.user
        _password_acceptable(new_password, user=user)
    else:
        # Judged against the address given, account or not: the answer tells nothing of it.
        _password_acceptable(new_password, user=User(email=email))
        link = _code_link(email=email, purpose=Purpose.RESET, code=code, count_code=count_code)
        if link is None:
            raise ResetInvalid()
        user = link.user
    with transaction.atomic():
        sync_seq_next(user=user, profile=True, refresh=("email", "email_verified", "pending_email"))
        if reset_superseded(link.email, link.requested_at):  # asked for again since
            raise ResetInvalid()
        if not link_spend(link) or link.email != user.email:
            raise ResetInvalid()
        user.set_password(new_password)
        user.email_verified = True
        user.save(update_fields=["password", "email_verified"])  # voids the other links too
        # Whoever reset the password may not be whoever set up the webhooks: each is enabled
        # again only by its owner, knowingly (the notice lists them).
        webhooks_disable(user=user, reason=Webhook.Disabled.PASSWORD_RESET)
        jobs.send_password_changed.defer(user_id=user.pk, changed_at=now().isoformat())


def _password_acceptable(password: str, *, user: User) -> None:
    if problems := password_problems(password, user=user):
        raise exceptions.ValidationError({"new_password": problems})


def email_verification_resend(*, user: User) -> None:
    """A new verification email (the old link and code die); nothing when already verified."""
    if user.email_verified:
        return
    with transaction.atomic():
        _link_mail(user=user, purpose=Purpose.VERIFY, email=user.email)


def email_verify(
    *,
    token: str | None = None,
    code: str | None = None,
    user: User | None = None,
    count_code: CodeCounter = _uncounted,
) -> User:
    """Mark the account's address verified, by the link's token or (signed in) the code."""
    if token is not None:
        link = link_by_token(token, purposes=[Purpose.VERIFY])
    else:
        link = _code_link(user=user, purpose=Purpose.VERIFY, code=code, count_code=count_code)
    if link is None or not link.user.is_active:
        raise VerificationInvalid()
    user = link.user
    with transaction.atomic():
        user.profile_seq = sync_seq_next(user=user, profile=True, refresh=("email", "email_verified"))
        if not link_spend(link) or link.email != user.email:
            raise VerificationInvalid()
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


def email_change_request(*, user: User, new_email: str, password: str) -> None:
    """Mail a confirmation to the new address and, to the current one, a notice with a link
    that undoes the change. Until it is confirmed the account keeps its address, and
    `pending_email` shows the new one; a new request voids the earlier one."""
    _require_password(user, password, field="password")
    if new_email == user.email:
        raise exceptions.ValidationError({"new_email": [CURRENT_EMAIL]})
    if User.objects.filter_by_email(new_email).exists() or address_held(new_email, by_other_than=user):
        raise exceptions.ValidationError({"new_email": [EMAIL_TAKEN]})
    with transaction.atomic():
        user.profile_seq = sync_seq_next(user=user, profile=True, refresh=("email",))
        change = _link_mail(user=user, purpose=Purpose.CHANGE, email=new_email)
        _link_mail(user=user, purpose=Purpose.UNDO, email=user.email)
        user.pending_email, user.pending_email_until = new_email, change.expires_at
        user.save(update_fields=["pending_email", "pending_email_until"])


def email_change_confirm(
    *,
    token: str | None = None,
    code: str | None = None,
    user: User | None = None,
    family: str | None = None,
    count_code: CodeCounter = _uncounted,
) -> User:
    """Make the change: by the link mailed to the new address (its token) or, signed in, by its
    code. Or undo it: by the link mailed to the old address, which puts that address back. The
    address is verified; every other login of the account ends (`family`: the one that sent
    the confirmation, kept; an undo ends them all), and every outstanding link and code is void.
    The new address taken by another account meanwhile: the change is void, a 400."""
    if token is not None:
        link = link_by_token(token, purposes=[Purpose.CHANGE, Purpose.UNDO])
    else:
        link = _code_link(user=user, purpose=Purpose.CHANGE, code=code, count_code=count_code)
    if link is None or not link.user.is_active:
        raise VerificationInvalid()
    owner = link.user
    keep = family if link.purpose == Purpose.CHANGE and user is not None and user.pk == owner.pk else None
    taken = False
    with transaction.atomic():
        owner.profile_seq = sync_seq_next(user=owner, profile=True, refresh=("email", "email_verified"))
        if not link_spend(link):
            raise VerificationInvalid()
        if link.email != owner.email:
            try:
                with transaction.atomic():
                    owner.email = link.email
                    owner.email_verified = True
                    owner.save(update_fields=["email", "email_verified"])
            except IntegrityError:
                taken = True
        else:
            owner.email_verified = True
            owner.save(update_fields=["email_verified"])
        owner.links_void()
        if not taken or link.purpose == Purpose.UNDO:  # an undo ends every login, always
            token_families_revoke(user=owner, keep=keep)
    if taken:
        if link.purpose == Purpose.UNDO:
            raise VerificationInvalid(
                "The old address now belongs to another account; it cannot be put back."
            )
        raise exceptions.ValidationError({"new_email": [EMAIL_TAKEN]})
    return owner


def user_email_changed_by_admin(*, user: User) -> None:
    """An admin gave the account another address: a profile change for the other devices, and
    every outstanding reset, verification and change link and code is void (they went to, or
    were about, the old address)."""
    with transaction.atomic():
        user.profile_seq = sync_seq_next(user=user, profile=True)
        user.links_void()


def pending_email_changes_expire(*, at=None) -> int:
    """Clear the `pending_email` of changes whose link expired, each a profile change (so other
    devices' sync sees it go; the user object already shows null from the moment it expired)."""
    at = at or now()
    expired = 0
    for user in User.objects.filter(pending_email_until__lte=at).exclude(pending_email=""):
        with transaction.atomic():
            seq = sync_seq_next(user=user, profile=True, refresh=("pending_email", "pending_email_until"))
            if user.pending_email and user.pending_email_until and user.pending_email_until <= at:
                user.profile_seq = seq
                user.pending_email, user.pending_email_until = "", None
                user.save(update_fields=["pending_email", "pending_email_until"])
                expired += 1
    return expired
