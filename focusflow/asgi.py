"""ASGI entry point: `uvicorn focusflow.asgi:application`, the events processes. They hold the
live streams of `GET /api/events/` (focusflow.events) without a worker each, and, being the
same Django app, answer every other path as well.

Under ASGI the synchronous part of each request runs in a thread of its own, so a database
connection kept after a request would never be used again: persistent connections are off
here (Django's advice for ASGI). The streams read in a small pool of threads that keep
theirs."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusflow.settings")
os.environ["DB_CONN_MAX_AGE"] = "0"

from django.core.asgi import get_asgi_application

application = get_asgi_application()
