"""gunicorn's settings for FocusFlow in production, driven by the environment.

gunicorn reads this file from its working directory by itself (`gunicorn focusflow.wsgi`);
`-c /path/to/gunicorn.conf.py` names it explicitly. Command-line options win over it.
Sizing, restarts and deploys: docs/operations.md.

| variable | meaning | default |
|---|---|---|
| `GUNICORN_BIND` | `host:port` or `unix:/path` | `127.0.0.1:8000` |
| `GUNICORN_WORKERS` | worker processes | CPU cores + 1 |
| `GUNICORN_THREADS` | threads per worker; each holds its own database connection | `4` |
| `GUNICORN_TIMEOUT` | seconds a worker may stay unresponsive before it is replaced | `30` |
| `GUNICORN_GRACEFUL_TIMEOUT` | seconds in-flight requests get to finish on a restart or stop | `30` |
| `GUNICORN_KEEPALIVE` | seconds an idle connection from the proxy is kept open | `75` |
| `GUNICORN_MAX_REQUESTS` | requests after which a worker is replaced (`0`: never), plus up to 10% | `10000` |
| `GUNICORN_ACCESS_LOG` | `-` (stdout) or a file; unset: none (nginx logs requests) | none |
| `GUNICORN_CONTROL_SOCKET` | path of gunicorn's control socket; unset: none | none |
"""

import os
import sys


def _int(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        # One line, like the app's own configuration errors.
        sys.exit(f"focusflow: configuration error: {name} must be a whole number >= {minimum} (got {raw!r})")
    return value


bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Threads overlap the waits on PostgreSQL and Redis; processes use the cores. Every thread
# keeps its own database connection, so instances x workers x threads must stay well below
# PostgreSQL's max_connections.
workers = _int("GUNICORN_WORKERS", (os.cpu_count() or 1) + 1, minimum=1)
threads = _int("GUNICORN_THREADS", 4, minimum=1)
# gunicorn's gthread worker, answering what it refuses itself (a malformed header, too many
# headers) in the API's JSON instead of HTML (focusflow/gunicorn_worker.py).
worker_class = "focusflow.gunicorn_worker.JsonErrorWorker"

# A worker that stops answering its arbiter for this long is killed and replaced. Requests
# themselves are bounded well below it: the database by DB_CONNECT_TIMEOUT, Redis by 2 s.
timeout = _int("GUNICORN_TIMEOUT", 30, minimum=1)
# SIGHUP (reload) and SIGTERM (stop) let in-flight requests finish for this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
# Longer than the proxy's own idle timeout for upstream connections (nginx: 60 s), so it is
# always the proxy that closes an idle connection: gunicorn closing one just as nginx sends a
# request on it would fail that request (a 502 nginx does not retry for a POST).
keepalive = _int("GUNICORN_KEEPALIVE", 75, minimum=1)

# Replace each worker after this many requests, so that a slow leak can never grow without
# bound; the jitter keeps workers from all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000, minimum=0)
max_requests_jitter = max_requests // 10

# Request-line and header limits. The line limit is gunicorn's largest, above nginx's (8 KB
# buffers), so behind nginx an over-long URL is refused by nginx with its JSON 414 and any URL
# nginx passes is one the app sees and answers in JSON. nginx limits each header's size but not
# their number: more than 100 (nginx adds X-Forwarded-For and X-Forwarded-Proto) is refused
# here, a JSON 431 like nginx's for headers too large. Bodies are limited by the app
# (DATA_UPLOAD_MAX_MEMORY_SIZE, 1 MiB: a JSON 413) and by nginx (client_max_body_size).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Logs: errors to stderr (the service manager's journal); access logs only when asked for.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'

# gunicorn 27 opens a control socket at one default path per user; several instances on one
# host would take it from each other. Off unless a path is given.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

# Worker heartbeats in memory, not on a disk that may stall (gunicorn's own advice).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

proc_name = os.environ.get("GUNICORN_PROC_NAME", "focusflow")


def post_worker_init(worker):
    """The app's long-lived objects kept out of the garbage collector's way, and a worker that
    stops listening at once on SIGTERM."""
    _freeze_loaded_objects()
    _stop_listening_on_sigterm(worker)


def _freeze_loaded_objects() -> None:
    """Everything loaded so far (Django, the URLconf and the views it imports) moves to the
    collector's permanent generation, which full collections do not traverse. A full collection
    then walks only what requests created since: serving the history page in a loop, its pause
    fell from about 80 ms to under 10 ms (docs/performance.md)."""
    import gc
    import importlib

    from django.conf import settings

    importlib.import_module(settings.ROOT_URLCONF)  # every urls.py and view now, not on a request
    gc.collect()
    gc.freeze()


def _stop_listening_on_sigterm(worker) -> None:
    """On SIGTERM, a worker stops listening at once, not only once its last request is done.

    gunicorn's graceful stop leaves the listening socket open in the workers while they finish
    their requests: new connections pile up in the kernel's backlog, unanswered, and are reset
    when the socket finally closes - a 502 that nginx cannot retry for a POST it has sent.
    Closed at once, the socket refuses new connections, and nginx retries them on another
    instance. On a reload (SIGHUP) only the old workers close their copies: the arbiter and
    the new workers keep listening on the same socket.
    """
    import signal

    graceful_exit = worker.handle_exit

    def stop_listening() -> None:
        worker.set_accept_enabled(False)
        for listener in worker.sockets:
            listener.close()

    def handle_exit(sig, frame) -> None:
        if worker.alive:
            worker.method_queue.defer(stop_listening)
        graceful_exit(sig, frame)

    signal.signal(signal.SIGTERM, handle_exit)
