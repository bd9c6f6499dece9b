"""Settings of the simulated PlentyONE server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class PlentySandboxConfig:
    username: str = "sandbox-api"
    password: str = "sandbox-password"  # noqa: S105 - a fake server's well-known login
    plenty_id: int = 12345
    token_lifetime_seconds: int = 86400
    refresh_token_lifetime_seconds: int = 30 * 86400
    max_sessions: int = 3
    """Live (unexpired, not logged out) access tokens per user; one more login answers 429."""
    read_limit: int = 200
    write_limit: int = 80
    window_seconds: float = 60.0
    """Short window: per access token and per kind (read = GET, write = everything else)."""
    long_read_limit: int = 166000
    long_write_limit: int = 48000
    long_window_seconds: float = 86400.0
    """Long window: per system (all tokens together) and per kind."""
    clamp_pages: bool = True
    """A page past the end answers with the last page and its real page number (real servers do)."""
    strict_outgoing_sign: bool = True
    """``bookOutgoingItems`` rejects positive quantities with 422 (otherwise they are booked as negative)."""
    max_stock_rows: int = 100
    """Rows one stock correction or booking call accepts; more answer 422 and apply nothing. The API
    documents no maximum: this models one, at the batch size plentysync sends by default."""
    state_file: Path | None = None
    """When set: loaded at start if it exists, saved atomically after every write request."""
