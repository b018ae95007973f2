"""The floor of this stack: a bare Django app on the same gunicorn, PostgreSQL and driver as
FocusFlow, that answers one JSON GET with one indexed query. No DRF, no middleware, no apps.
`bench/run.py` serves it beside FocusFlow and reports every figure as a ratio to it."""

import os

import dj_database_url

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
# The same connection settings as FocusFlow's (persistent connections with health checks).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
USE_TZ = True
