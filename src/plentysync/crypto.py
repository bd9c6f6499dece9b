"""Encryption of credentials kept in the state database (Fernet, with MultiFernet for key rotation).

The first key encrypts; every key decrypts. Rotating means: put the new key first, keep the old one in
``secret_key_fallbacks``, run ``plentysync db rotate-secrets``, then drop the old key.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from plentysync.errors import ConfigError, CredentialsError
from plentysync.settings import Settings


class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigError("no secret key configured")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """Keys from ``secret_key`` (+ fallbacks); without one, the key file in the data directory,
        created with mode 0600 on first use."""
        raw: list[tuple[str, str]] = []
        if settings.secret_key is not None:
            raw.append(("secret_key", settings.secret_key.get_secret_value()))
        else:
            raw.append(
                (
                    str(settings.secret_key_file),
                    load_or_create_key_file(settings.secret_key_file),
                )
            )
        raw += [("secret_key_fallbacks", key.get_secret_value()) for key in settings.secret_key_fallbacks]
        keys = []
        for origin, key in raw:
            try:
                Fernet(key.encode())
            except (ValueError, TypeError):
                raise ConfigError(
                    f"setting '{origin}': not a valid Fernet key (32 url-safe base64-encoded bytes); "
                    "create one with: plentysync db generate-key"
                ) from None
            keys.append(key.encode())
        return cls(keys)

    def encrypt(self, plaintext: bytes) -> str:
        return self._fernet.encrypt(plaintext).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise CredentialsError(
                "stored credentials cannot be decrypted with the configured secret key; if the key was "
                "changed, add the previous one to secret_key_fallbacks"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` with the primary key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise CredentialsError("a stored credential cannot be decrypted with any configured key") from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_or_create_key_file(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(generate_key() + "\n")
    # link() is atomic and refuses to overwrite: if two processes race, both end up reading the winner's key.
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()
