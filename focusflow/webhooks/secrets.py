"""Webhook signing secrets: `whsec_` and the base64 of 32 random bytes, shown once, kept
encrypted with a key derived from the server's secret key (Fernet: AES-128-CBC with an
HMAC-SHA256), so a copy of the database alone signs nothing. Keys of DJANGO_SECRET_KEY's
fallbacks still decrypt, so rotating the server key does not break every webhook at once."""

import base64
import secrets

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "whsec_"


def _fernet(key: str) -> Fernet:
    digest = salted_hmac("focusflow.webhooks.secret", "fernet", secret=key, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)])


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_seal(secret: str) -> str:
    return _keys().encrypt(secret.encode()).decode()


def secret_open(sealed: str) -> str:
    return _keys().decrypt(sealed.encode()).decode()
