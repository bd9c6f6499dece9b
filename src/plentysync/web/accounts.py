"""Labels for API accounts that are safe to publish.

An ``api_budget`` row's account is ``f"{base_url}|{username}"``. The label keeps the host and path of
the base URL (never user info, query or fragment) and replaces the username by a short hash, so two
accounts on one instance stay apart without the username appearing in /metrics or /healthz.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit


def account_label(account: str) -> str:
    base, sep, user = account.rpartition("|")
    if not sep:
        base, user = account, ""
    try:
        parts = urlsplit(base)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        shown = f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}" if host else "unknown"
    except ValueError:
        shown = "unknown"
    if not user:
        return shown
    return f"{shown}#{hashlib.sha256(user.encode()).hexdigest()[:8]}"
