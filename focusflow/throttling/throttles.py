"""The limits as DRF throttles: the read and write limits every API viewset has, and the ones a
handler adds with `@rate_limited(...)`."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from focusflow.throttling.limits import (
    EXPORTS,
    PASSWORD_CHECKS,
    RECOVERY,
    USER_READS,
    USER_WRITES,
    Limit,
    account_of_email,
    password_check_wait,
    recovery_wait,
)


class LimitThrottle(BaseThrottle):
    """A DRF throttle counting against one Limit. Views add these to an action with
    `@rate_limited(...)`; the read and write limits are on every APIViewSet."""

    limit: Limit
    description: str  # for the schema's 429

    def applies(self, request, view) -> bool:
        return True

    def counted_wait(self, request, view) -> float | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self._wait = self.counted_wait(request, view) if self.applies(request, view) else None
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait

    @classmethod
    def documented_for(cls, *, method: str, public: bool) -> bool:
        return True


def _account(request) -> str | None:
    """The account a request counts against: the signed-in one, or the one the body's `email`
    names (normalised; None when there is none)."""
    if request.user.is_authenticated:
        return request.user.email
    data = request.data
    return account_of_email(data.get("email") if isinstance(data, dict) else None)


class PasswordCheckThrottle(LimitThrottle):
    """The signed-in user's account (password change, deletion), or the one the body's
    `email` names (login, register)."""

    limit = PASSWORD_CHECKS
    description = "too many password attempts from this address or for this account"

    def counted_wait(self, request, view) -> float | None:
        return password_check_wait(request, account=_account(request))


class RecoveryThrottle(LimitThrottle):
    """A reset request or a verification resend: counted per client address and per email
    (the signed-in account's, or the body's `email`, whether or not an account has it)."""

    limit = RECOVERY
    description = "too many recovery emails asked for from this address or for this email"

    def counted_wait(self, request, view) -> float | None:
        return recovery_wait(request, account=_account(request))


class AccountThrottle(LimitThrottle):
    """Counted per signed-in account."""

    def counted_wait(self, request, view) -> float | None:
        return self.limit.hit(f"user:{request.user.pk}")


class _AccountMethodsThrottle(AccountThrottle):
    """Every authenticated read, or every authenticated write, of an account."""

    reads: bool  # GET, HEAD and OPTIONS; else the other methods

    def applies(self, request, view) -> bool:
        return (request.method in SAFE_METHODS) == self.reads and request.user.is_authenticated

    @classmethod
    def documented_for(cls, *, method: str, public: bool) -> bool:
        return (method in SAFE_METHODS) == cls.reads and not public


class UserWriteThrottle(_AccountMethodsThrottle):
    limit = USER_WRITES
    description = "too many writes by this account"
    reads = False


class UserReadThrottle(_AccountMethodsThrottle):
    limit = USER_READS
    description = "too many reads by this account"
    reads = True


class ExportThrottle(AccountThrottle):
    limit = EXPORTS
    description = "too many exports by this account"


def rate_limited(*throttle_classes: type[LimitThrottle]):
    """Decorate a viewset's handler (an @action, or a method mapped onto one) with the limits
    that apply to it, on top of the read and write limits every APIViewSet has."""

    def decorate(handler):
        handler.rate_limits = throttle_classes
        return handler

    return decorate


def handler_throttle_classes(handler) -> tuple[type[LimitThrottle], ...]:
    return getattr(handler, "rate_limits", ())
