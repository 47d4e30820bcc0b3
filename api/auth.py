"""Client secrets, the secrets we hold for other hosts, and access tokens.

- Secrets are stored as ``scrypt$n$r$p$salt$hash`` (RFC 7914) and compared in constant time.
- A secret the service must present elsewhere (its credentials at a client's PACT host, for event
  answers) cannot be hashed: it is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
  ``LOGISTICS_TOKEN_KEY`` and stored as ``aesgcm1:<base64url nonce + ciphertext>``.
- Access tokens are ``<payload>.<signature>``: the payload is base64url JSON
  ``{"sub": client_id, "iat": ..., "exp": ...}`` and the signature base64url HMAC-SHA256 of the
  payload under the ``LOGISTICS_TOKEN_KEY``. A token that does not verify is *invalid*; one that
  verifies but is past ``exp`` is *expired* (PACT distinguishes the two).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SEALED_PREFIX = "aesgcm1:"
MIN_SEALING_KEY_LENGTH = 32  # as the service requires of LOGISTICS_TOKEN_KEY


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def _sealing_key(key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"logistics-co2 sealed secret").derive(key.encode())
    return AESGCM(derived)


def seal(secret: str, key: str, owner: str) -> str:
    """``secret`` encrypted and authenticated under ``key`` (the service's token key), bound to
    ``owner`` (the client row it belongs to: copied to another row, it does not open)."""
    if len(key) < MIN_SEALING_KEY_LENGTH:
        raise ValueError(f"sealing a secret needs LOGISTICS_TOKEN_KEY (the service's key, {MIN_SEALING_KEY_LENGTH}+ characters)")
    nonce = secrets.token_bytes(12)
    sealed = nonce + _sealing_key(key).encrypt(nonce, secret.encode(), _context(owner))
    return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode()


def _context(owner: str) -> bytes:
    return SEALED_PREFIX.encode() + owner.encode()


def unseal(stored: str, key: str, owner: str) -> str:
    """The secret ``seal`` stored; ValueError when it was sealed under another key or altered."""
    if not stored.startswith(SEALED_PREFIX):
        raise ValueError("the stored secret is not sealed; store it again with: python -m logistics_api.admin set-callback")
    try:
        raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX):].encode())
        return _sealing_key(key).decrypt(raw[:12], raw[12:], _context(owner)).decode()
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise ValueError("the stored secret cannot be opened with this LOGISTICS_TOKEN_KEY (was the key changed?)") from exc


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed.hex(), digest)


# A hash of nothing that anyone knows: checked against when the client id is unknown, so that an
# unknown client costs the same time as a wrong secret.
DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenCheck:
    client_id: str | None
    problem: str | None  # None (valid) | "invalid" | "expired"


class Tokens:
    def __init__(self, key: str, lifetime_seconds: int):
        self._key = key.encode()
        self.lifetime = lifetime_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, client_id: str, lifetime_seconds: int | None = None, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        body = {"sub": client_id, "iat": issued, "exp": issued + (lifetime_seconds or self.lifetime),
                "jti": secrets.token_hex(8)}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def check(self, token: str, now: float | None = None) -> TokenCheck:
        if not token.isascii():  # ours are base64url; compare_digest refuses non-ASCII text
            return TokenCheck(None, "invalid")
        payload, dot, signature = token.partition(".")
        if not dot or not hmac.compare_digest(self._sign(payload), signature):
            return TokenCheck(None, "invalid")
        try:
            body = json.loads(_unb64(payload))
            client_id, expires = str(body["sub"]), float(body["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return TokenCheck(None, "invalid")
        if (time.time() if now is None else now) >= expires:
            return TokenCheck(client_id, "expired")
        return TokenCheck(client_id, None)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from an ``Authorization: Basic`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:  # ValueError: binascii.Error, non-ASCII text, bytes that are not UTF-8
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError:
        return None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon and client_id else None


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
