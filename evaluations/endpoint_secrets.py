"""Endpoint secrets (API keys), encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from ``ENDPOINT_SECRETS_KEYS`` (Fernet keys, newest first: the first encrypts,
each decrypts, so a key can be rotated); without it, one is derived from ``SECRET_KEY``. A
secret is decrypted only by the worker, for the one call to the endpoint that needs it; pages,
the API, the admin and logs see at most whether there is one.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key this install no longer has."""


def _cipher() -> MultiFernet:
    keys = [key.encode() for key in settings.ENDPOINT_SECRETS_KEYS if key]
    if not keys:
        digest = hashlib.sha256(b"endpoint-secrets\0" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest)]
    return MultiFernet([Fernet(key) for key in keys])


def secret_encrypt(secret: str) -> str:
    """The stored form of ``secret``; empty for no secret."""
    return _cipher().encrypt(secret.encode()).decode() if secret else ""


def secret_decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return _cipher().decrypt(stored.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("the endpoint's secret cannot be decrypted with this key") from error
