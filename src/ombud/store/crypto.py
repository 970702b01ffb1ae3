"""Keys derived from OMBUD_SECRET_KEY: identifier HMACs and encryption at rest (DESIGN §5).

Identifiers are stored as keyed HMAC-SHA256 for lookup, so Ombud can answer
"do we know this person?" without holding who. Plaintext needed to run a
request (to query systems, to mail the person) is encrypted with AES-GCM and
deleted when the case's own retention ends. Both keys come from the one secret
through HKDF with distinct labels, so neither reveals the other.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Version byte in front of every ciphertext, so a later key rotation can tell them apart.
_CIPHER_VERSION = b"\x01"
_NONCE_BYTES = 12
_MIN_SECRET_LENGTH = 16


class SecretKeyError(ValueError):
    """The secret key is unusable, or a ciphertext was not made with it."""


def _derive(secret: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


@dataclass(frozen=True)
class Keys:
    """The identifier HMAC key and the encryption key, derived from the secret key."""

    hmac_key: bytes = field(repr=False)
    encryption_key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> Keys:
        """Derive both keys; raises :class:`SecretKeyError` for a secret too short to be one."""
        if len(secret) < _MIN_SECRET_LENGTH:
            raise SecretKeyError(
                f"OMBUD_SECRET_KEY is {len(secret)} characters; use at least "
                f"{_MIN_SECRET_LENGTH} random ones (e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`)"
            )
        raw = secret.encode("utf-8")
        return cls(_derive(raw, b"ombud identifier hmac v1"), _derive(raw, b"ombud at-rest v1"))

    def identifier(self, kind: str, normalised: str) -> str:
        """HMAC-SHA256 hex of one normalised identifier; equal inputs give equal digests."""
        message = f"{kind}\x00{normalised}".encode()
        return hmac.digest(self.hmac_key, message, "sha256").hex()

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """AES-GCM ciphertext of ``plaintext``, bound to ``context`` (e.g. the request id)."""
        return self.encrypt_bytes(plaintext.encode("utf-8"), context=context)

    def decrypt(self, ciphertext: bytes, *, context: str) -> str:
        """The plaintext of :meth:`encrypt`; raises :class:`SecretKeyError` if tampered with."""
        return self.decrypt_bytes(ciphertext, context=context).decode("utf-8")

    def encrypt_bytes(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.encryption_key).encrypt(nonce, plaintext, context.encode("utf-8"))
        return _CIPHER_VERSION + nonce + sealed

    def decrypt_bytes(self, ciphertext: bytes, *, context: str) -> bytes:
        if not ciphertext.startswith(_CIPHER_VERSION):
            raise SecretKeyError("stored ciphertext has an unknown format version")
        nonce = ciphertext[1 : 1 + _NONCE_BYTES]
        try:
            return AESGCM(self.encryption_key).decrypt(
                nonce, ciphertext[1 + _NONCE_BYTES :], context.encode("utf-8")
            )
        except InvalidTag:
            raise SecretKeyError(
                "stored ciphertext does not decrypt with this OMBUD_SECRET_KEY (changed key, "
                "or the row was altered)"
            ) from None


def new_token() -> str:
    """A random URL-safe token for a link (verification, extract download)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, so a database leak gives no usable link."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
