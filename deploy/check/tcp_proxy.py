"""A TCP proxy that can take the database away from the app servers, for the outage tests.

The app servers connect to the proxy instead of PostgreSQL. `cut()` drops every open
connection and, until `restore()`, answers new ones as a failed database would:

- `refuse`: reset at once (the server is down, the cluster restarting);
- `blackhole`: accepted and never answered (a host that went away, a firewall dropping
  packets), so the client's own connect timeout has to end the wait.

In-process (pytest): `with TcpProxy(("127.0.0.1", 5432)) as proxy: ... proxy.cut()`.
As a process (make deploy-test), so it never shares the load generator's interpreter:
`python -m deploy.check.tcp_proxy UPSTREAM_PORT` (see `main`).
"""

import contextlib
import selectors
import socket
import struct
import sys
import threading

MODES = ("up", "refuse", "blackhole")


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset rather than a polite FIN: an abrupt loss, as in an outage."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class TcpProxy:
    def __init__(self, upstream: tuple[str, int], listen: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.upstream = upstream
        self._server = socket.create_server(listen)
        self._server.setblocking(False)
        self.host, self.port = self._server.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ, "accept")
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._peers: dict[socket.socket, socket.socket] = {}
        self._held: list[socket.socket] = []
        self._mode = "up"
        self._requested: tuple[str, threading.Event] | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.connections_accepted = 0

    # --- control (any thread) ---------------------------------------------------------------

    def start(self) -> "TcpProxy":
        self._thread = threading.Thread(target=self.serve_forever, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    def cut(self, mode: str = "refuse") -> None:
        """Drop every open connection; answer new ones as `mode` says until `restore()`."""
        if mode not in MODES[1:]:
            raise ValueError(f"mode must be refuse or blackhole, not {mode!r}")
        self._request(mode)

    def restore(self) -> None:
        self._request("up")

    def stop(self) -> None:
        self._stopping = True
        self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def open_connections(self) -> int:
        return len(self._peers) // 2

    def _request(self, mode: str) -> None:
        done = threading.Event()
        self._requested = (mode, done)
        self._wake_w.send(b"x")
        if not done.wait(timeout=10):
            raise RuntimeError("the proxy did not answer")

    # --- the loop (one thread) --------------------------------------------------------------

    def serve_forever(self) -> None:
        try:
            while not self._stopping:
                for key, _ in self._selector.select(timeout=1):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._wake_r.recv(64)
                        self._apply_request()
                    else:
                        self._forward(key.fileobj)
        finally:
            self._drop_all()
            for sock in (self._server, self._wake_r, self._wake_w):
                sock.close()
            self._selector.close()

    def _apply_request(self) -> None:
        if self._requested is None:
            return
        mode, done = self._requested
        self._requested = None
        if mode != "up":
            self._drop_all()
        else:
            for sock in self._held:
                _reset(sock)
            self._held.clear()
        self._mode = mode
        done.set()

    def _accept(self) -> None:
        try:
            client, _ = self._server.accept()
        except BlockingIOError:
            return
        self.connections_accepted += 1
        if self._mode == "refuse":
            _reset(client)
            return
        if self._mode == "blackhole":
            self._held.append(client)
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(30)  # sends only; reads happen when select says so
        self._peers[client] = upstream
        self._peers[upstream] = client
        self._selector.register(client, selectors.EVENT_READ, "data")
        self._selector.register(upstream, selectors.EVENT_READ, "data")

    def _forward(self, source: socket.socket) -> None:
        target = self._peers.get(source)
        if target is None:
            return
        try:
            data = source.recv(65536)
            if data:
                target.sendall(data)
                return
        except OSError:
            pass
        self._drop(source)

    def _drop(self, sock: socket.socket) -> None:
        other = self._peers.pop(sock, None)
        for each in (sock, other):
            if each is None:
                continue
            self._peers.pop(each, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(each)
            _reset(each)

    def _drop_all(self) -> None:
        for sock in list(self._peers):
            self._drop(sock)
        for sock in self._held:
            _reset(sock)
        self._held.clear()


def main() -> None:
    """`python -m deploy.check.tcp_proxy UPSTREAM_PORT [UPSTREAM_HOST [LISTEN_HOST]]`: prints
    its port, then reads commands on stdin (`refuse`, `blackhole`, `up`), answering `ok` once
    each is in force. End of input stops it."""
    upstream_host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    listen_host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    proxy = TcpProxy((upstream_host, int(sys.argv[1])), listen=(listen_host, 0)).start()
    print(proxy.port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "up":
            proxy.restore()
        elif command in MODES:
            proxy.cut(command)
        else:
            print(f"unknown command {command!r}", flush=True)
            continue
        print("ok", flush=True)
    proxy.stop()


if __name__ == "__main__":
    main()
