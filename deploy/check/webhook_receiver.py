"""A real HTTP server that receives webhooks: the integration of the webhook tests and of
`make deploy-test`, on a free loopback port (never any other address).

It keeps every request it gets (headers and body) and answers each with the next of the
answers queued (`answer(status, body, headers)`), else 200 with `{"ok": true}`, or, for a ping,
with its validation code (`validating`). It can hold the next request unanswered until the
connection goes (a worker killed mid-delivery). `verified()` checks a request's signature with
the Standard Webhooks reference library.
"""

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from deploy.check.procs import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self):
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.held: list[Received] = []  # requests held unanswered (not in `received`)
        self.answers: list[tuple[int, bytes, dict[str, str]]] = []
        self.validating = True  # a ping is answered with its validation code
        self.holding = threading.Event()
        self._hold_next = False
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    hold, receiver._hold_next = receiver._hold_next, False
                    if hold:
                        receiver.held.append(got)
                    else:
                        receiver.received.append(got)
                        answer = receiver.answers.pop(0) if receiver.answers else None
                if hold:
                    receiver.holding.set()
                    self.connection.settimeout(120)
                    with contextlib.suppress(OSError):
                        self.rfile.read(1)  # until the sender's connection goes
                    return
                if answer is None:
                    answer = (200, receiver._default(body), {})
                status, text, headers = answer
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _default(self, body: bytes) -> bytes:
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        if self.validating and isinstance(event, dict) and event.get("type") == "ping":
            return json.dumps({"validation_code": event["data"]["validation_code"]}).encode()
        return b'{"ok": true}'

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
        """Answer the next request not yet answered with this (in the order queued)."""
        with self._lock:
            self.answers.append((status, body, headers or {}))

    def hold_next(self) -> None:
        self._hold_next = True
        self.holding.clear()

    def of_type(self, kind: str, path: str | None = None) -> list[Received]:
        return [
            r
            for r in list(self.received)
            if r.json().get("type") == kind and (path is None or r.path == path)
        ]

    def wait_for(
        self, kind: str, *, count: int = 1, timeout: float = 30, path: str | None = None
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.of_type(kind, path)) >= count:
                return found
            time.sleep(0.05)
        seen = [r.json()["type"] for r in self.received]
        raise AssertionError(f"{count} {kind} event(s) did not arrive within {timeout} s: {seen}")


def verified(received: Received, secret: str) -> dict:
    """The event, once its signature checks out with the reference library (raises otherwise)."""
    return Webhook(secret).verify(received.body, received.headers)
