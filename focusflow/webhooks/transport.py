"""One attempt to deliver a webhook, over HTTP, safe to point at by anybody (SSRF).

- A URL is `https://` to a host whose every address is public: globally routable, after
  unmapping IPv4-mapped, NAT64 and 6to4 forms (`url_refusal`). It is checked when the URL is
  saved and again, resolved afresh, before every attempt.
- The request goes through requests-hardened: it resolves the host once more, refuses the
  address it got unless it is public, and connects to that very address (TLS still checks the
  certificate against the host name), so DNS answering differently between the check and the
  connection (rebinding) cannot reach a private address. No proxy from the environment, no
  redirect followed (a 3xx is a failed attempt), a connect timeout, an answer within
  ANSWER_SECONDS, read up to READ_LIMIT bytes.
- WEBHOOK_ALLOW_PRIVATE_URLS (development and tests only) allows `http://` and private and
  loopback addresses.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress

CONNECT_SECONDS = 5
ANSWER_SECONDS = 10  # a 2xx within this is a success
READ_LIMIT = 64 * 1024
EXCERPT_CHARACTERS = 500
URL_MAX_LENGTH = 2000
USER_AGENT = "FocusFlow-Webhooks/1.2 (+https://www.standardwebhooks.com/)"
RETRY_AFTER_MAX = 24 * 3600

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _unmapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), or itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def address_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    address = _unmapped(address)
    return address.is_global and not address.is_multicast


def url_refusal(url: str) -> str | None:
    """Why a webhook may not be sent to `url` (for the log; clients get one message for every
    refusal), or None. Resolves the host: every address must be public."""
    if not isinstance(url, str) or len(url) > URL_MAX_LENGTH or not url.isascii() or not url.isprintable():
        return "not a URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "not https"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return "no host, or credentials in the URL"
    if allow_private:
        return None
    try:
        found = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return "the host does not resolve"
    addresses = {ipaddress.ip_address(entry[4][0].split("%")[0]) for entry in found}
    if not addresses or not all(address_public(address) for address in addresses):
        return "an address of the host is not public"
    return None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str  # "" for a 2xx, else one of WebhookDelivery.Error
    duration_ms: int
    body: bytes = b""  # up to READ_LIMIT
    retry_after: float | None = None  # seconds, as the receiver asked

    @property
    def ok(self) -> bool:
        return not self.error

    def excerpt(self) -> str:
        return self.body[: EXCERPT_CHARACTERS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARACTERS]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(int(value))
    else:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError, OverflowError):
            return None
    return min(max(seconds, 0), RETRY_AFTER_MAX)


def _manager() -> Manager:
    private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    return Manager(
        Config(
            ip_filter_enable=not private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(CONNECT_SECONDS, ANSWER_SECONDS),
            user_agent_override=USER_AGENT,
        )
    )


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url`: what came of it. Never raises for anything the network or the
    receiver does."""
    started = time.monotonic()

    def outcome(error: str, status_code: int | None = None, **rest) -> Outcome:
        return Outcome(status_code, error, round((time.monotonic() - started) * 1000), **rest)

    if url_refusal(url) is not None:
        return outcome("refused_address")
    deadline = started + ANSWER_SECONDS
    try:
        with _manager().get_session() as session:
            session.trust_env = False  # no proxy, no .netrc from the environment
            with session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                stream=True,
                allow_redirects=False,
                timeout=(CONNECT_SECONDS, ANSWER_SECONDS),
            ) as response:
                read = b""
                for chunk in response.iter_content(8192):
                    read += chunk
                    if len(read) >= READ_LIMIT:
                        break
                    if time.monotonic() > deadline:
                        return outcome("timeout", response.status_code)
                if time.monotonic() > deadline:
                    return outcome("timeout", response.status_code)
                status = response.status_code
                return outcome(
                    "" if 200 <= status < 300 else "http_status",
                    status,
                    body=read[:READ_LIMIT],
                    retry_after=_retry_after(response.headers.get("Retry-After")),
                )
    except InvalidIPAddress:
        return outcome("refused_address")
    except requests.exceptions.SSLError:
        return outcome("tls_failed")
    except requests.exceptions.Timeout:
        return outcome("timeout")
    except (requests.exceptions.RequestException, OSError, ValueError):
        # A read that timed out mid-body comes as a connection error.
        return outcome("timeout" if time.monotonic() >= deadline else "connect_failed")
