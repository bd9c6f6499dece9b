"""Which credentials a connection of each system and auth mode stores. Kept free of the API clients
so the connection commands can use it without loading them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plentysync.errors import ConfigError

MAGENTO_AUTH_MODES: tuple[str, ...] = ("oauth", "bearer", "admin")
DEFAULT_MAGENTO_AUTH = "oauth"
DEFAULT_STORE_CODE = "default"

PLENTY_CREDENTIALS: tuple[str, ...] = ("username", "password")
MAGENTO_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "oauth": ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    "bearer": ("token",),
    "admin": ("username", "password"),
}
SECRET_CREDENTIALS: frozenset[str] = frozenset({"password", "consumer_secret", "access_token_secret", "token"})
"""Fields never taken from the command line and never shown."""
SHOWN_CREDENTIALS: frozenset[str] = frozenset({"username", "consumer_key"})
"""Fields whose values identify an account without granting access; ``connection show`` prints them."""


def magento_auth_mode(options: Mapping[str, Any]) -> str:
    mode = str(options.get("auth") or DEFAULT_MAGENTO_AUTH)
    if mode not in MAGENTO_AUTH_MODES:
        raise ConfigError(f"unknown Magento auth mode {mode!r}: use one of {', '.join(MAGENTO_AUTH_MODES)}")
    return mode


def required_credentials(system: str, options: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The credential fields a connection of ``system`` (with these options) must have."""
    if system == "plenty":
        return PLENTY_CREDENTIALS
    if system == "magento":
        return MAGENTO_CREDENTIALS[magento_auth_mode(options or {})]
    raise ConfigError(f"unknown system {system!r}: use plenty or magento")
