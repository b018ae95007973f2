"""Typed readers for settings that come from the environment.

A bad value stops the process with one line that names the variable, instead of a traceback
from deep inside Django: ops see at once what to fix.
"""

import os
import re
import zoneinfo
from typing import NoReturn

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_THROTTLE_RATE = re.compile(r"^[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)$")

# A signing key an attacker cannot guess offline from one token: as long as Django's own
# deploy check asks for, with enough different characters that it is not `a` * 50 or a
# placeholder sentence padded to length.
SECRET_MIN_LENGTH = 50
SECRET_MIN_DISTINCT_CHARACTERS = 10
_PLACEHOLDER = re.compile(r"django-insecure|insecure|change.?me|placeholder|secret.?key.?here", re.IGNORECASE)


class ConfigError(SystemExit):
    """Raised for a missing or malformed environment variable; exits with status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"focusflow: configuration error: {message}")


def fail(message: str) -> NoReturn:
    raise ConfigError(message)


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    fail(f"{name} must be 1 or 0 (got {value!r})")


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        fail(f"{name} must be a whole number (got {value!r})")
    if not minimum <= number <= maximum:
        fail(f"{name} must be between {minimum} and {maximum} (got {number})")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    value = _raw(name)
    if value is None:
        value = default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail(f"{name} must be an IANA time zone such as Europe/Paris (got {value!r})")
    return value


def env_secret(name: str, *, fallback: str, strict: bool) -> str:
    """A signing key. `strict` (debug off): at least SECRET_MIN_LENGTH characters, enough
    distinct ones, not a placeholder; the key itself is never printed."""
    value = env_str(name, fallback)
    if strict and (
        len(value) < SECRET_MIN_LENGTH
        or len(set(value)) < SECRET_MIN_DISTINCT_CHARACTERS
        or _PLACEHOLDER.search(value)
    ):
        fail(
            f"{name} is too weak: use at least {SECRET_MIN_LENGTH} random characters, e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(64))"'
        )
    return value


def env_throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate such as `20/minute`, or None when the variable says `off`."""
    value = env_str(name, default)
    if value.lower() == "off":
        return None
    if not _THROTTLE_RATE.match(value):
        fail(f"{name} must look like 20/minute (or 5/second, 100/hour, 1000/day, off); got {value!r}")
    return value
