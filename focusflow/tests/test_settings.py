"""Settings come from the environment and fail loudly, in one line, on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "".join(chr(97 + (i * 7) % 26) for i in range(60))


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    ours = (
        "DJANGO_",
        "JWT_",
        "AUTH_",
        "USER_",
        "QUOTES_",
        "SYNC_",
        "EMAIL_",
        "APP_",
        "RECOVERY_",
        "DEFAULT_FROM",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_off_without_a_secret_key_stops_with_one_line_naming_the_variable():
    result = manage("check", DJANGO_DEBUG="0")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DJANGO_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "weak",
    [
        "changeme",
        "a" * 64,
        "0123456789" * 3,
        "ab" * 40,  # long, but two characters
        "django-insecure-" + STRONG_KEY,
        "please-change-me-" + STRONG_KEY,
    ],
)
@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])
def test_debug_off_with_a_weak_signing_key_stops_with_one_line_that_does_not_print_it(name, weak):
    result = manage("check", **{"DJANGO_SECRET_KEY": STRONG_KEY, name: weak, "DJANGO_DEBUG": "0"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert weak not in lines[0]


def test_debug_on_accepts_a_short_key_for_local_runs():
    result = manage("check", DJANGO_SECRET_KEY="changeme", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_jwts_are_signed_with_their_own_key_which_defaults_to_the_secret_key():
    jwt_key = "jwt-" + STRONG_KEY[::-1]
    code = (
        "import jwt; from rest_framework_simplejwt.tokens import AccessToken;"
        "token = str(AccessToken());"
        "print(*(bool(jwt.decode(token, k, algorithms=['HS256'])) for k in {keys}))"
    )
    own = manage(
        "shell", "--no-imports", "-c", code.format(keys=repr([jwt_key])),
        DJANGO_SECRET_KEY=STRONG_KEY, JWT_SIGNING_KEY=jwt_key, DJANGO_DEBUG="0",
    )  # fmt: skip
    assert own.stdout.split() == ["True"], own.stderr
    wrong = manage(
        "shell", "--no-imports", "-c", code.format(keys=repr([STRONG_KEY])),
        DJANGO_SECRET_KEY=STRONG_KEY, JWT_SIGNING_KEY=jwt_key, DJANGO_DEBUG="0",
    )  # fmt: skip
    assert "InvalidSignatureError" in wrong.stderr
    default = manage(
        "shell", "--no-imports", "-c", code.format(keys=repr([STRONG_KEY])),
        DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="0",
    )  # fmt: skip
    assert default.stdout.split() == ["True"], default.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("JWT_ACCESS_MINUTES", "soon"),
        ("JWT_REFRESH_DAYS", "0"),
        ("AUTH_THROTTLE_RATE", "lots"),
        ("USER_WRITE_THROTTLE_RATE", "10/fortnight"),
        ("USER_READ_THROTTLE_RATE", "often"),
        ("QUOTES_TIME_ZONE", "Mars/Base"),
        ("DATABASE_URL", "nonsense://x"),
        ("SYNC_TOMBSTONE_DAYS", "7"),
        ("RECOVERY_THROTTLE_RATE", "plenty"),
        ("EMAIL_URL", "mail.example.com"),
        ("EMAIL_URL", "ftp://mail.example.com"),
        ("EMAIL_URL", "smtp://mail.example.com:99999"),
        ("EMAIL_URL", "smtp://mail.example.com?timeout=0"),
        ("EMAIL_URL", "smtp://mail.example.com?tls=1"),
        ("APP_URL", "app.focusflow.example"),
        ("APP_URL", "https://app.focusflow.example/?next=x"),
    ],
)
def test_a_malformed_variable_is_named_in_a_one_line_error(name, value):
    result = manage("check", **{"DJANGO_SECRET_KEY": STRONG_KEY, name: value})
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert name in result.stderr


def test_check_deploy_is_clean_with_https_on_and_debug_off():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="1",
        DJANGO_ALLOWED_HOSTS="api.focusflow.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_is_on_by_default_when_debug_is_off():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = manage("shell", "--no-imports", "-c", code, DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="0")
    assert result.stdout.strip() == "True True ('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


def test_settings_read_the_configuration_table():
    code = (
        "from django.conf import settings as s;"
        "print(s.SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds(),"
        " s.SIMPLE_JWT['REFRESH_TOKEN_LIFETIME'].days, s.AUTH_THROTTLE_RATE, s.USER_WRITE_THROTTLE_RATE,"
        " s.THROTTLE_COUNTER_STORE, s.QUOTES_TIME_ZONE,"
        " s.CORS_ALLOWED_ORIGINS, s.ALLOWED_HOSTS, s.CACHES['default']['BACKEND'],"
        " s.DATABASES['default']['ENGINE'], s.DATABASES['default']['CONN_HEALTH_CHECKS'])"
    )
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="0",
        JWT_ACCESS_MINUTES="5",
        JWT_REFRESH_DAYS="30",
        AUTH_THROTTLE_RATE="off",
        USER_WRITE_THROTTLE_RATE="100/second",
        QUOTES_TIME_ZONE="Asia/Tokyo",
        CORS_ALLOWED_ORIGINS="https://a.example, https://b.example",
        DJANGO_ALLOWED_HOSTS="api.example",
        REDIS_URL="redis://127.0.0.1:6379/3",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/focusflow",
    )
    assert result.stdout.split() == [
        "300.0",
        "30",
        "None",
        "100/second",
        "redis",
        "Asia/Tokyo",
        "['https://a.example',",
        "'https://b.example']",
        "['api.example']",
        "django_redis.cache.RedisCache",
        "focusflow.db.backend",
        "True",
    ], result.stderr


def test_rate_limits_default_to_the_contract_and_count_in_the_database_without_redis():
    code = (
        "from django.conf import settings as s;"
        "print(s.AUTH_THROTTLE_RATE, s.USER_WRITE_THROTTLE_RATE, s.THROTTLE_COUNTER_STORE)"
    )
    result = manage("shell", "--no-imports", "-c", code, DJANGO_SECRET_KEY=STRONG_KEY, REDIS_URL="")
    assert result.stdout.split() == ["20/minute", "600/minute", "database"], result.stderr


def test_without_database_url_settings_stop_with_one_line_outside_manage_py():
    # manage.py with DJANGO_DEBUG=1 would start the embedded PostgreSQL (focusflow/db/embedded.py,
    # tested on its own in test_embedded.py); gunicorn, pytest and plain imports must not.
    ours = ("DJANGO_", "JWT_", "AUTH_", "USER_", "QUOTES_", "SYNC_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "focusflow.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": "",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL is required" in lines[0]


def test_a_database_url_other_than_postgresql_stops_with_one_line():
    result = manage("check", DJANGO_DEBUG="1", DATABASE_URL="sqlite:////tmp/focusflow.sqlite3")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "must name a PostgreSQL database" in lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console:", {"backend": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://focus%40flow:p%3Ass@mail.example.com:587",
            {
                "backend": "django.core.mail.backends.smtp.EmailBackend",
                **{"host": "mail.example.com", "port": 587, "user": "focus@flow", "password": "p:ss"},
                **{"ssl": False, "starttls": True, "timeout": 10},
            },
        ),
        ("smtp://mail.example.com", {"port": 25, "starttls": False, "ssl": False, "user": ""}),
        ("smtp://mail.example.com:2525?starttls=1&timeout=3", {"port": 2525, "starttls": True, "timeout": 3}),
        ("smtp://mail.example.com:587?starttls=0", {"starttls": False}),
        ("smtps://u:p@mail.example.com", {"port": 465, "ssl": True, "starttls": False}),
    ],
)
def test_email_url_gives_djangos_email_settings(url, expected):
    from focusflow.env import env_email_url

    os.environ["FOCUSFLOW_TEST_EMAIL_URL"] = url
    try:
        parsed = env_email_url("FOCUSFLOW_TEST_EMAIL_URL", "console:")
    finally:
        del os.environ["FOCUSFLOW_TEST_EMAIL_URL"]
    assert {key: parsed[key] for key in expected} == expected


def test_mail_settings_default_to_the_console_and_the_local_app():
    code = "from django.conf import settings as s;print(s.EMAIL_BACKEND, s.APP_URL, s.DEFAULT_FROM_EMAIL)"
    result = manage("shell", "--no-imports", "-c", code, DJANGO_SECRET_KEY=STRONG_KEY)
    assert result.stdout.split() == [
        "django.core.mail.backends.console.EmailBackend",
        "http://127.0.0.1:8000",
        "FocusFlow",
        "<no-reply@localhost>",
    ], result.stderr
