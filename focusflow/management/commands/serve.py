"""`python manage.py serve [addr:port]`: the local run's server (`make run`). uvicorn serves the
ASGI application, so one process answers the API, the admin and the docs and holds the live
streams of `GET /api/events/` (runserver, being WSGI, cannot); it restarts on code changes."""

from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# What the reloader watches: the project's code, not .venv or .pgdata.
_CODE = ("focusflow", "users", "focus_sessions", "journals", "quotes")


class Command(BaseCommand):
    help = "Serve the app locally (uvicorn): the API, admin, docs and live streams; reloads on code changes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("address", nargs="?", default="127.0.0.1:8000", help="host:port (127.0.0.1:8000)")
        parser.add_argument("--noreload", action="store_true", help="Do not restart on code changes.")

    def handle(self, *args, address: str, noreload: bool, **options) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"{address!r} is not host:port")
        base = Path(settings.BASE_DIR)
        self.stdout.write(f"Serving FocusFlow at http://{host}:{port}/ (API, admin, docs, live events)")
        uvicorn.run(
            "focusflow.asgi:application",
            host=host,
            port=int(port),
            reload=not noreload,
            reload_dirs=[str(base / name) for name in _CODE],
            timeout_graceful_shutdown=1,
            log_level="info",
        )
