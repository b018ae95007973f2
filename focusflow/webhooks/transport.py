"""One attempt to deliver a webhook, over HTTP, safe to point at by anybody (SSRF).

- A URL is `https://` to a host whose every address is public (`url_refusal`): globally
  routable by Python's registry, not reserved or multicast, outside the ranges
  requests-hardened blocks besides (NAT64, 6to4, CG-NAT, segment routing...), and judged again
  as the IPv4 address an IPv4-mapped, NAT64 or 6to4 form carries. It is checked when the URL is
  saved and again before every attempt.
- Each attempt resolves the host once, checks every address, and connects to the first one
  checked (`_PinnedAdapter`): the Host header, TLS SNI and the certificate check keep the
  host's name, so DNS answering differently a moment later (rebinding) reaches nothing. The
  session is requests-hardened's: no redirect followed (a 3xx is a failed attempt), no proxy
  from the environment, its timeouts and User-Agent.
- The whole exchange ends ANSWER_SECONDS after it began, however the receiver trickles its
  answer (a watchdog shuts the connection's socket), and at most READ_LIMIT bytes are read.
- WEBHOOK_ALLOW_PRIVATE_URLS (development and tests only) allows `http://` and private and
  loopback addresses.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

CONNECT_SECONDS = 5
ANSWER_SECONDS = 10  # a 2xx within this is a success
READ_LIMIT = 64 * 1024
EXCERPT_CHARACTERS = 500
URL_MAX_LENGTH = 2000
USER_AGENT = "FocusFlow-Webhooks/1.2 (+https://www.standardwebhooks.com/)"
RETRY_AFTER_MAX = 24 * 3600

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _unmapped(address: Address) -> Address:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), or itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def _routable(address: Address) -> bool:
    return (
        address.is_global
        and not (address.is_multicast or address.is_reserved)
        and not any(
            address in network for network in EXTRA_BLOCKED_NET_RANGES if network.version == address.version
        )
    )


def address_public(address: Address) -> bool:
    return _routable(address) and _routable(_unmapped(address))


def _target(url: str) -> tuple[object, list[str]] | str:
    """(the URL's parts, the host's addresses, resolved once), or why it may not be used."""
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
    if not parts.hostname or parts.username is not None or parts.password is not None or " " in url:
        return "no host, or credentials in the URL"
    try:
        found = socket.getaddrinfo(
            parts.hostname, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError, ValueError):
        return "the host does not resolve"
    addresses = list(dict.fromkeys(entry[4][0].split("%")[0] for entry in found))
    if not addresses:
        return "the host does not resolve"
    if not allow_private and not all(address_public(ipaddress.ip_address(address)) for address in addresses):
        return "an address of the host is not public"
    return parts, addresses


def url_refusal(url: str) -> str | None:
    """Why a webhook may not be sent to `url` (for the log; clients get one message for every
    refusal), or None."""
    target = _target(url)
    return target if isinstance(target, str) else None


class _PinnedAdapter(HTTPAdapter):
    """Connects to `address`, checked already, whatever the URL's host resolves to by then;
    keeps every socket it opens in `sockets`, for the watchdog."""

    def __init__(self, address: str, sockets: list[socket.socket]) -> None:
        self._address = f"[{address}]" if ":" in address else address
        self._sockets = sockets
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        sockets = self._sockets

        def tracked(connection_class):
            class Tracked(connection_class):
                def _new_conn(self):
                    sock = super()._new_conn()
                    sockets.append(sock)
                    return sock

            return Tracked

        class Pool(HTTPConnectionPool):
            ConnectionCls = tracked(HTTPConnection)

        class TlsPool(HTTPSConnectionPool):
            ConnectionCls = tracked(HTTPSConnection)

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        """As requests-hardened's IPFilterAdapter does, with the address checked before."""
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"]
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        if host_params["port"] is not None:
            host_header += f":{host_params['port']}"
        request.headers = CaseInsensitiveDict(request.headers or {})
        request.headers["Host"] = host_header
        if host_params["scheme"] == "https":
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        host_params["host"] = self._address
        return host_params, pool_kwargs


def _session(address: str, sockets: list[socket.socket]) -> requests.Session:
    session = HTTPSession(
        Config(
            ip_filter_enable=False,  # the address is checked, and pinned, here
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(CONNECT_SECONDS, ANSWER_SECONDS),
            user_agent_override=USER_AGENT,
        )
    )
    session.trust_env = False  # no proxy, no .netrc from the environment
    adapter = _PinnedAdapter(address, sockets)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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
        text = self.body[: EXCERPT_CHARACTERS * 4].decode("utf-8", errors="replace")
        return text.replace("\x00", "\ufffd")[:EXCERPT_CHARACTERS]  # PostgreSQL text holds no NUL


def _retry_after(value: str | None) -> float | None:
    """Seconds the receiver asked to wait (a number, or an HTTP date), at most a day; None for
    anything else."""
    value = (value or "").strip()
    if not value or len(value) > 64 or not value.isascii():
        return None
    try:
        if value.isdigit():
            seconds = float(int(value))
        else:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return min(max(seconds, 0), RETRY_AFTER_MAX)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url`: what came of it. Never raises for anything the network or the
    receiver does."""
    started = time.monotonic()
    deadline = started + ANSWER_SECONDS

    def outcome(error: str, status_code: int | None = None, **rest) -> Outcome:
        return Outcome(status_code, error, round((time.monotonic() - started) * 1000), **rest)

    target = _target(url)
    if isinstance(target, str):
        return outcome("refused_address")
    _, addresses = target
    sockets: list[socket.socket] = []

    def cut() -> None:  # the answer time is over: whatever is still being read, stop
        for sock in list(sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(max(deadline - time.monotonic(), 0), cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        with (
            _session(addresses[0], sockets) as session,
            session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                stream=True,
                allow_redirects=False,
                timeout=(CONNECT_SECONDS, ANSWER_SECONDS),
            ) as response,
        ):
            read = b""
            for chunk in response.raw.stream(1024, decode_content=True):
                read += chunk
                if len(read) >= READ_LIMIT or time.monotonic() > deadline:
                    break
            if time.monotonic() > deadline:
                return outcome("timeout", response.status_code)
            status = response.status_code
            return outcome(
                "" if 200 <= status < 300 else "http_status",
                status,
                body=read[:READ_LIMIT],
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
    except requests.exceptions.SSLError:
        return outcome("timeout" if time.monotonic() >= deadline else "tls_failed")
    except requests.exceptions.Timeout:
        return outcome("timeout")
    except Exception:
        # Whatever a receiver makes of the exchange is its failure, not a crash of ours. A read
        # cut by the watchdog, or timed out mid-body, comes as a connection error.
        return outcome("timeout" if time.monotonic() >= deadline else "connect_failed")
    finally:
        watchdog.cancel()
