"""FocusFlow settings: one module, driven by the environment.

Every variable is listed in `.env.example` and in the README. Defaults suit a quick local run
(`make run`: debug on, an embedded PostgreSQL in .pgdata/); production sets DATABASE_URL,
REDIS_URL and a secret key.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url

from focusflow.db.options import outage_safe_options
from focusflow.env import (
    env_bool,
    env_email_url,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_throttle_rate,
    env_time_zone,
    env_url,
    fail,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

if not DEBUG and not env_str("DJANGO_SECRET_KEY"):
    fail("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off; set it to a long random string")
# Debug only: a fixed key so local tokens survive restarts. Never used with debug off. With
# debug off a short or guessable key stops the process: from one token, an attacker could
# recover it offline and sign tokens for any account.
SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY",
    fallback="insecure-local-development-key-only-used-when-DJANGO_DEBUG-is-on-0123456789",
    strict=not DEBUG,
)
# The JWTs' own key, so it can be rotated (logging everybody out) without touching the one
# that protects admin sessions and password-reset links, and the other way round.
JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY", fallback=SECRET_KEY, strict=not DEBUG)
# Earlier secret keys, still accepted while a rotation rolls out (comma-separated): admin
# sessions, personal access tokens' hashes and webhook secrets made under them keep working.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "focusflow.apps.AdminConfig",  # django.contrib.admin, with the site of focusflow.admin.site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "focusflow",
    "focusflow.jobs",
    "focusflow.sync",
    "focusflow.events",
    "focusflow.webhooks",
    "focusflow.idempotency",
    "focusflow.throttling",
    "users",
    "focus_sessions",
    "journals",
    "quotes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "focusflow.db.outage.DatabaseOutageMiddleware",
    "focusflow.middleware.ChunkedBodyMiddleware",
    # Sessions, login and messages serve the admin; /api/ requests pass them by. CSRF stays
    # as Django ships it (`check --deploy` looks for it by name); API views are exempt anyway.
    "focusflow.middleware.AdminSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "focusflow.middleware.AdminAuthenticationMiddleware",
    "focusflow.middleware.AdminMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "focusflow.urls"
WSGI_APPLICATION = "focusflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

# PostgreSQL only. Local runs get theirs from manage.py (focusflow/db/embedded.py); anything
# else (gunicorn, pytest) must say where the database is.
if not env_str("DATABASE_URL"):
    fail(
        "DATABASE_URL is required (postgres://user:password@host:port/name); "
        "only `make run` and `python manage.py` with DJANGO_DEBUG=1 start a local PostgreSQL themselves"
    )
try:
    _database = dj_database_url.parse(
        env_str("DATABASE_URL"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0, maximum=3600),
        conn_health_checks=True,
    )
except ValueError as exc:
    fail(f"DATABASE_URL is not a database URL this project understands ({exc})")
if _database["ENGINE"] != "django.db.backends.postgresql":
    fail(f"DATABASE_URL must name a PostgreSQL database, the only engine (got {_database['ENGINE']})")
# Django's PostgreSQL backend with a circuit breaker on connection attempts (focusflow/db/backend).
_database["ENGINE"] = "focusflow.db.backend"
# Fail fast instead of hanging when the server is unreachable (the health check relies on it)
# or the network under an open connection dies (focusflow/db/options.py).
_database["OPTIONS"] = outage_safe_options(
    timeout=env_int("DB_CONNECT_TIMEOUT", 5, minimum=1, maximum=60),
    options=_database.get("OPTIONS", {}),
)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttle counters, daily quote) -------------------------------------------------

_redis_url = env_str("REDIS_URL")
REDIS_URL = _redis_url or None  # also the live-update pokes between processes (focusflow.sync.pokes)
if _redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": "focusflow",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # A Redis outage degrades to cache misses (no throttling, quote read from the
                # database) instead of failing every request.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "focusflow",
        }
    }

# --- Auth -----------------------------------------------------------------------------------

AUTH_USER_MODEL = "users.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Rate limits (focusflow.throttling.limits); None disables one. Every password check (API login,
# register, password change, account deletion, admin login), per client address and per
# account; authenticated writes per user; data exports per user.
AUTH_THROTTLE_RATE = env_throttle_rate("AUTH_THROTTLE_RATE", "20/minute")
USER_WRITE_THROTTLE_RATE = env_throttle_rate("USER_WRITE_THROTTLE_RATE", "600/minute")
USER_READ_THROTTLE_RATE = env_throttle_rate("USER_READ_THROTTLE_RATE", "1200/minute")
# Every request made with a personal access token, per token, in place of the account's read
# and write limits (focusflow.api.scopes).
TOKEN_THROTTLE_RATE = env_throttle_rate("TOKEN_THROTTLE_RATE", "600/minute")
EXPORT_THROTTLE_RATE = "10/hour"
# Password-reset requests and wrong codes: per email (whether or not an account has it) at this
# rate, per client address at six times it (users.recovery).
RECOVERY_THROTTLE_RATE = env_throttle_rate("RECOVERY_THROTTLE_RATE", "5/hour")
# Codes tried per account, after which only links work for it until the day is over.
RECOVERY_CODES_RATE = "20/day"
# Where the counts live, shared by every worker and server: Redis, or the database without it.
THROTTLE_COUNTER_STORE = "redis" if _redis_url else "database"

# Everything else is SimpleJWT's default (HS256, `Bearer`, claim `user_id`).
# Rotation, blacklisting and last-login updates are done by `users.services`/`users.tokens`,
# not by SimpleJWT's own views, so its switches for them would be read by nothing.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1, maximum=24 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1, maximum=365)),
    "SIGNING_KEY": JWT_SIGNING_KEY,
}

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # An access token (a JWT) or a personal access token (`ffp_...`), told apart by the prefix.
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["focusflow.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["focusflow.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "focusflow.api.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "focusflow.api.handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "focusflow.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Client address for throttling: REMOTE_ADDR, or the address that many proxies back in
    # X-Forwarded-For. Trusting the header without a proxy would let clients dodge the limit.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0, minimum=0, maximum=10),
}

MAX_PAGE_SIZE = 100

# Live updates (focusflow.events): a comment line on every open stream at least this often,
# when each stream also looks at the database for changes a lost poke did not announce.
EVENTS_HEARTBEAT_SECONDS = env_int("EVENTS_HEARTBEAT_SECONDS", 15, minimum=1, maximum=15)
EVENTS_MAX_STREAMS_PER_USER = 50
EVENTS_TICKET_SECONDS = 60
# Streams an events process opens at once (each opening holds a database connection meanwhile).
EVENTS_OPENING_AT_ONCE = 10

# How long deletions stay in the sync feed; a sync cursor older than this answers 410.
SYNC_TOMBSTONE_RETENTION = timedelta(days=env_int("SYNC_TOMBSTONE_DAYS", 30, minimum=30, maximum=3650))

# Largest request body the API parses; bigger bodies get a 413 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

SPECTACULAR_SETTINGS = {
    "TITLE": "FocusFlow API",
    "DESCRIPTION": (
        "Focus sessions, journal reflections and a daily quote. Authenticate with "
        "`Authorization: Bearer <access token>` from `POST /api/users/login/`. Errors other "
        'than validation errors have the shape `{"detail": "...", "code": "..."}`; validation '
        'errors are `{"<field>": ["message"]}`.'
    ),
    "VERSION": "1.0.0",
    "CONTACT": {"name": "FocusFlow API team", "email": "api@focusflow.example"},
    "LICENSE": {"name": "Proprietary", "url": "https://focusflow.example/legal/api-terms"},
    # The schema is served by the API it describes: relative to where it was fetched from.
    "SERVERS": [
        {"url": "/", "description": "The server this schema was fetched from"},
        {"url": "http://127.0.0.1:8000", "description": "Local development (`make run`)"},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums stay inline, in the component that uses them (an error body's `code`, a change's
    # `type`): generated clients name them after it, with no global enums to collide.
    "POSTPROCESSING_HOOKS": ["focusflow.api.schema.response_shapes", "focusflow.api.schema.default_security"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After", "ETag", "Idempotent-Replayed", "Content-Disposition"]

# --- Email and the worker -------------------------------------------------------------------

# Every email is sent by the worker (`python manage.py worker`, focusflow/jobs), never in a
# request. `console:` prints them to the worker's output.
_email = env_email_url("EMAIL_URL", "console:")
EMAIL_BACKEND = _email["backend"]
EMAIL_HOST, EMAIL_PORT = _email["host"], _email["port"]
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email["user"], _email["password"]
EMAIL_USE_SSL, EMAIL_USE_TLS = _email["ssl"], _email["starttls"]
EMAIL_TIMEOUT = _email["timeout"]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FocusFlow <no-reply@localhost>")
# The web app that the links in emails open; never the request's Host header.
APP_URL = env_url("APP_URL", "http://127.0.0.1:8000")

# Webhooks (focusflow.webhooks): `1` lets them go over plain http:// and to private and loopback
# addresses, for development and tests only (the processes log a warning when it is on).
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
WEBHOOK_PING_RATE = "10/hour"  # pings asked for, per webhook
WEBHOOK_REDELIVER_RATE = "10/hour"  # redeliveries asked for, per webhook

# procrastinate (the job queue, on this PostgreSQL): each app's jobs live in its `jobs.py`.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "jobs"
PROCRASTINATE_IMPORT_PATHS = ["focusflow.jobs.housekeeping"]

# --- Quotes ---------------------------------------------------------------------------------

QUOTES_TIME_ZONE = env_time_zone("QUOTES_TIME_ZONE", "UTC")

# --- HTTPS ----------------------------------------------------------------------------------

if env_bool("DJANGO_HTTPS", not DEBUG):
    SECURE_SSL_REDIRECT = True
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "focusflow.api.views.csrf_failure"

# --- i18n, static ---------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Display formats (the admin's dates and times): focusflow/formats/en/formats.py.
FORMAT_MODULE_PATH = "focusflow.formats"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve app static files (admin, Swagger UI) straight from the packages, so no collectstatic
# step is needed before the first run; until one is done, STATIC_ROOT does not exist yet and
# WhiteNoise's warning about it is noise.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

# --- Logging --------------------------------------------------------------------------------

_log_level = env_str("DJANGO_LOG_LEVEL", "INFO").upper()
if _log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    fail(f"DJANGO_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {_log_level!r})")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "client_mistake_as_warning": {"()": "focusflow.log.ClientMistakeAsWarning"},
        "quiet_rate_limited": {"()": "focusflow.log.QuietRateLimited"},
        "job_lines": {"()": "focusflow.log.JobLines"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_mistake_as_warning", "job_lines"],
        },
    },
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {
        # Replaces Django's own debug-only console handler, which would print everything twice.
        "django": {"handlers": ["console"], "level": _log_level, "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["quiet_rate_limited"]},
        # Which tasks each process registered, at every start: not news.
        "procrastinate.blueprints": {"level": "WARNING"},
        # "Deferred 1 job", once per email a request queues: the worker logs each job it runs.
        "procrastinate.jobs": {"level": "WARNING"},
    },
}
