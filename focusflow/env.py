"""Typed readers for settings that come from the environment.

A bad value stops the process with one line that names the variable, instead of a traceback
from deep inside Django: ops see at once what to fix.
"""

import os
import re
import urllib.parse
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


def env_email_url(name: str, default: str) -> dict:
    """Django's email settings (backend, host, port, user, password, ssl, starttls, timeout)
    from one URL:

    - `console:` prints every message to the process's output (local runs);
    - `smtp://user:password@host:port` (port 25 unless given; STARTTLS on port 587, or with
      `?starttls=1`);
    - `smtps://user:password@host:port` (TLS from the first byte; port 465 unless given).

    `?timeout=N` bounds every SMTP operation (10 seconds unless given), so a server that
    stops answering fails the worker's attempt, which is retried, instead of hanging it.
    User and password are percent-decoded (`%40` for an `@` in a user name)."""
    value = env_str(name, default)
    console = {
        "backend": "django.core.mail.backends.console.EmailBackend",
        **{"host": "localhost", "port": 25, "user": "", "password": ""},
        **{"ssl": False, "starttls": False, "timeout": 10},
    }
    if value in {"console:", "console://"}:
        return console
    parsed = urllib.parse.urlsplit(value)
    query = dict(urllib.parse.parse_qsl(parsed.query))
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if parsed.scheme not in {"smtp", "smtps"} or not parsed.hostname or port == -1:
        fail(f"{name} must be console:, smtp://user:password@host:port or smtps://... (got {value!r})")
    unknown = set(query) - {"timeout", "starttls"}
    if unknown:
        fail(f"{name} knows the options timeout and starttls only (got {', '.join(sorted(unknown))})")
    port = port or (465 if parsed.scheme == "smtps" else 25)
    timeout = query.get("timeout", "10")
    if not timeout.isdigit() or not 1 <= int(timeout) <= 300:
        fail(f"{name}: timeout must be a whole number of seconds from 1 to 300 (got {timeout!r})")
    starttls = query.get("starttls", "1" if port == 587 else "0")
    if starttls not in {"0", "1"}:
        fail(f"{name}: starttls must be 0 or 1 (got {starttls!r})")
    return {
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": parsed.hostname,
        "port": port,
        "user": urllib.parse.unquote(parsed.username or ""),
        "password": urllib.parse.unquote(parsed.password or ""),
        "ssl": parsed.scheme == "smtps",
        "starttls": parsed.scheme == "smtp" and starttls == "1",
        "timeout": int(timeout),
    }


def env_url(name: str, default: str) -> str:
    """An http(s) URL with a host and no query or fragment, without a trailing slash."""
    value = env_str(name, default).rstrip("/")
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname or parsed.query or parsed.fragment:
        fail(f"{name} must be an http(s):// address such as https://app.focusflow.example (got {value!r})")
    return value
