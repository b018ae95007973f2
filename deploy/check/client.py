"""A small HTTP/1.1 client for the deploy test: one kept-alive connection to nginx, from a
loopback address of its own (127.0.0.x), so that nginx and the app see distinct clients."""

import http.client
import json
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int  # 0: no HTTP answer (the connection failed or was cut)
    started: float  # time.monotonic() when the request was sent
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def is_json(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/json") and self.json() is not None

    @property
    def code(self) -> str | None:
        data = self.json()
        return data.get("code") if isinstance(data, dict) else None


class Client:
    def __init__(self, base_url: str, *, source: str = "127.0.0.1", timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.source = source
        self.timeout = timeout
        self.token: str | None = None
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout, source_address=(self.source, 0)
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if auth and self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        started = time.monotonic()
        try:
            connection = self._connect()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            reply = _read_reply(response, started)
            if response.will_close:
                self.close()
            return reply
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Reply(status=0, started=started, elapsed=time.monotonic() - started, error=repr(exc))

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body=None, **kwargs) -> Reply:
        return self.request("POST", path, json_body=json_body, **kwargs)


def raw_request(base_url: str, request: bytes, *, source: str = "127.0.0.1", timeout: float = 30) -> Reply:
    """Any bytes as one request, on a connection of its own: what HTTP clients refuse to send
    (a control character in a header, TRACE, a malformed chunked body)."""
    parts = urlsplit(base_url)
    started = time.monotonic()
    try:
        with socket.create_connection(
            (parts.hostname, parts.port), timeout=timeout, source_address=(source, 0)
        ) as sock:
            sock.sendall(request)
            response = http.client.HTTPResponse(sock)
            response.begin()
            return _read_reply(response, started)
    except (OSError, http.client.HTTPException) as exc:
        return Reply(status=0, started=started, elapsed=time.monotonic() - started, error=repr(exc))


def _read_reply(response: http.client.HTTPResponse, started: float) -> Reply:
    """The whole answer, timed from `started`."""
    body = response.read()
    return Reply(
        status=response.status,
        started=started,
        elapsed=time.monotonic() - started,
        headers={k.lower(): v for k, v in response.getheaders()},
        body=body,
    )
