"""The BYOK vault: the only module that touches the cipher or the master key.

A provider key is sealed with AES-256-GCM under the master key, with a fresh 96-bit nonce and
the organisation id, key id and provider bound as associated data, so a ciphertext copied to
another row, organisation or provider does not open. Every ciphertext names the master key it
was sealed under::

    v1.<kid>.<base64url(nonce || ciphertext || tag), unpadded>

where ``kid`` is the first 8 hex characters of SHA-256 of the master key (a fingerprint, never
the key). ``BYOK_ENCRYPTION_KEY`` seals and opens; the keys in ``BYOK_ENCRYPTION_KEY_PREVIOUS``
only open, until ``launchgate byok rotate`` has resealed every row under the current one.

Nothing here puts a plaintext, a ciphertext or a master key in an exception, a log or a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from launchgate.config import Settings, SettingsError
from launchgate.kit.entropy import weakness

log = structlog.get_logger(__name__)

VERSION = "v1"
KEY_FILE = "byok.key"
ENV_KEY = "BYOK_ENCRYPTION_KEY"
ENV_PREVIOUS = "BYOK_ENCRYPTION_KEY_PREVIOUS"
MAKE_ONE = 'python -c "import secrets; print(secrets.token_hex(32))"'
_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_KID = re.compile(r"[0-9a-f]{8}")
_BODY = re.compile(r"[A-Za-z0-9_-]+")


class VaultError(Exception):
    """A ciphertext cannot be opened or sealed; the message names the key id, never a secret."""

    def __init__(self, message: str, *, key_id: uuid.UUID | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key_id = key_id


class MasterKeyError(VaultError, SettingsError):
    """The master key is missing or malformed: a start-up error that says how to make one."""


class _MasterKey:
    """One AES-256-GCM key and its fingerprint. Holds the key only inside ``AESGCM``."""

    __slots__ = ("_aead", "kid")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != _KEY_BYTES:
            raise MasterKeyError(
                f"A BYOK master key must be {_KEY_BYTES} bytes; make one with: {MAKE_ONE}"
            )
        self.kid = fingerprint(raw)
        self._aead = AESGCM(raw)

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return self._aead.encrypt(nonce, data, aad)

    def decrypt(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        return self._aead.decrypt(nonce, sealed, aad)

    def __repr__(self) -> str:
        return f"<master key {self.kid}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a BYOK master key cannot be pickled or copied")


class Vault:
    """Seals provider keys under the current master key; opens them under any accepted one."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        self._current = _MasterKey(current)
        self._keys = {self._current.kid: self._current}
        for raw in previous:
            key = _MasterKey(raw)
            self._keys.setdefault(key.kid, key)

    @property
    def current_kid(self) -> str:
        """The fingerprint of the master key new ciphertexts are sealed under."""
        return self._current.kid

    def seal(self, plaintext: str, *, org_id: uuid.UUID, key_id: uuid.UUID, provider: str) -> str:
        try:
            data = plaintext.encode("utf-8")
        except UnicodeEncodeError:
            # The codec's message quotes the offending character: say nothing of the text.
            raise VaultError(f"BYOK key {key_id} is not valid text", key_id=key_id) from None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.encrypt(nonce, data, _aad(org_id, key_id, provider))
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{VERSION}.{self._current.kid}.{body}"

    def open(self, ciphertext: str, *, org_id: uuid.UUID, key_id: uuid.UUID, provider: str) -> str:
        kid, blob = _parse(ciphertext, key_id)
        key = self._keys.get(kid)
        if key is None:
            raise VaultError(
                f"BYOK key {key_id} cannot be decrypted with the configured master keys: it "
                f"was sealed under master key {kid}, which is neither {ENV_KEY} nor in "
                f"{ENV_PREVIOUS}",
                key_id=key_id,
            )
        try:
            data = key.decrypt(
                blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad(org_id, key_id, provider)
            )
            return data.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise VaultError(
                f"BYOK key {key_id} cannot be decrypted with the configured master keys: "
                f"authentication failed under master key {kid} (the ciphertext was altered, or "
                "moved from another key, organisation or provider)",
                key_id=key_id,
            ) from None

    def is_current(self, ciphertext: str) -> bool:
        """Whether the ciphertext's tag names the current master key (it is not opened)."""
        parts = ciphertext.split(".")
        return len(parts) == 3 and parts[0] == VERSION and parts[1] == self._current.kid

    def reseal(
        self, ciphertext: str, *, org_id: uuid.UUID, key_id: uuid.UUID, provider: str
    ) -> str:
        """Open under any accepted master key, seal again under the current one."""
        plaintext = self.open(ciphertext, org_id=org_id, key_id=key_id, provider=provider)
        return self.seal(plaintext, org_id=org_id, key_id=key_id, provider=provider)

    def __repr__(self) -> str:
        return f"<Vault current={self._current.kid} accepted={len(self._keys)}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Vault holds master keys and cannot be pickled or copied")


def fingerprint(raw: bytes) -> str:
    """The kid written in ciphertexts: 32 bits of SHA-256, enough to pick a key, not to
    guess one."""
    return hashlib.sha256(raw).hexdigest()[:8]


def _aad(org_id: uuid.UUID, key_id: uuid.UUID, provider: str) -> bytes:
    # UUIDs never contain "|", and the provider comes last, so the fields cannot be confused.
    return f"launchgate/byok/{VERSION}|{org_id}|{key_id}|{provider}".encode()


def _parse(ciphertext: str, key_id: uuid.UUID) -> tuple[str, bytes]:
    malformed = VaultError(f"BYOK key {key_id} has a malformed ciphertext", key_id=key_id)
    parts = ciphertext.split(".") if isinstance(ciphertext, str) else []
    if (
        len(parts) != 3
        or parts[0] != VERSION
        or not _KID.fullmatch(parts[1])
        or not _BODY.fullmatch(parts[2])
    ):
        raise malformed
    body = parts[2]
    try:
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise malformed from None
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise malformed
    return parts[1], blob


# ---------------------------------------------------------------------------------------------
# Loading the master keys


def load_vault(settings: Settings) -> Vault:
    """The vault for these settings; raises ``MasterKeyError`` (one line) when the master
    key is missing or malformed.

    Without ``BYOK_ENCRYPTION_KEY``: refused with ``LAUNCHGATE_ENV=production``; otherwise
    the key file ``byok.key`` in the data dir is read, and in the embedded mode generated
    (mode 0600) on first start, with a warning.
    """
    secret = settings.byok_encryption_key
    value = secret.get_secret_value().strip() if secret is not None else ""
    current = parse_master_key(value, ENV_KEY) if value else _key_from_file(settings)
    if settings.env != "test":
        # Previous keys are not judged: a weak one must stay usable to rotate away from it.
        _refuse_weak(current, ENV_KEY if value else f"The BYOK key file {KEY_FILE}")
    previous = settings.byok_encryption_key_previous
    entries = previous.get_secret_value().split(",") if previous is not None else []
    olds = [
        parse_master_key(entry.strip(), f"{ENV_PREVIOUS} (entry {number})")
        for number, entry in enumerate(entries, 1)
        if entry.strip()
    ]
    return Vault(current, olds)


def parse_master_key(value: str, source: str) -> bytes:
    """32 bytes from 64 hex characters or base64 (standard or URL-safe, padded or not)."""
    value = value.strip()
    if len(value) == 2 * _KEY_BYTES and _HEX.fullmatch(value):
        return bytes.fromhex(value)
    raw = _b64decode(value)
    if raw is not None and len(raw) == _KEY_BYTES:
        return raw
    if _HEX.fullmatch(value):
        _refuse(source, f"is {len(value)} hex characters, not 64")
    if len(value) < 43:  # the shortest base64 of 32 bytes (unpadded)
        _refuse(source, f"is too short ({len(value)} characters)")
    if raw is not None:
        _refuse(source, f"decodes to {len(raw)} bytes, not {_KEY_BYTES}")
    _refuse(source, "is neither 64 hex characters nor base64")


def _refuse_weak(raw: bytes, source: str) -> None:
    """A master key that is plainly not random (kit/entropy.py: fewer than 8 distinct bytes,
    or a short pattern repeated, e.g. 32 zero bytes) protects nothing: refused outside
    ``LAUNCHGATE_ENV=test``, where the test suite's fixed keys live."""
    problem = weakness(raw, "byte")
    if problem:
        raise MasterKeyError(
            f"{source} {problem}, so it is not a random key: it must be {_KEY_BYTES} random "
            f"bytes; make one with: {MAKE_ONE}"
        )


def _b64decode(value: str) -> bytes | None:
    if not _BASE64.fullmatch(value):
        return None
    unpadded = value.rstrip("=")
    standard = unpadded.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _refuse(source: str, problem: str) -> NoReturn:
    # Never the value itself: only its shape.
    raise MasterKeyError(
        f"{source} {problem}: it must be {_KEY_BYTES} random bytes as 64 hex "
        f"characters or base64; make one with: {MAKE_ONE}"
    )


def _key_from_file(settings: Settings) -> bytes:
    if settings.env == "production":
        raise MasterKeyError(
            f"{ENV_KEY} is not set, and LAUNCHGATE_ENV=production needs it; "
            f"make one with: {MAKE_ONE}"
        )
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return parse_master_key(path.read_text(), f"The BYOK key file {path}")
    if not settings.embedded:
        # API and workers on several machines must share one key: a file on one will not do.
        raise MasterKeyError(
            f"{ENV_KEY} is not set, and a shared database needs it; make one with: {MAKE_ONE}"
        )
    return _generate_key_file(path)


def _generate_key_file(path: Path) -> bytes:
    raw = os.urandom(_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return parse_master_key(path.read_text(), f"The BYOK key file {path}")
    with os.fdopen(fd, "w") as handle:
        handle.write(raw.hex() + "\n")
    log.warning(
        "byok.master_key_generated",
        path=str(path.resolve()),
        detail=f"{ENV_KEY} is not set, so a BYOK master key was generated in this file. Back "
        "it up: stored provider keys cannot be decrypted without it. Set "
        f"{ENV_KEY} in production.",
    )
    return raw
