"""Password-grant login, refresh, logout and bearer checks (notes §2)."""

from __future__ import annotations

import secrets
from typing import Any

from plentysync.sandbox.plenty.config import PlentySandboxConfig
from plentysync.sandbox.plenty.errors import ApiError, unauthenticated
from plentysync.sandbox.plenty.state import PlentyState, Record


class Sessions:
    """Issues and checks tokens stored in ``state.tokens`` / ``state.refresh_tokens``."""

    def __init__(self, state: PlentyState, config: PlentySandboxConfig) -> None:
        self.state = state
        self.config = config

    def _now(self) -> float:
        return self.state.clock.now().timestamp()

    def live_sessions(self, username: str) -> int:
        now = self._now()
        return sum(
            1
            for token in self.state.tokens.values()
            if token["user"] == username and not token.get("revoked") and token["expiresAt"] > now
        )

    def login(self, username: str | None, password: str | None) -> dict[str, Any]:
        if username != self.config.username or password != self.config.password:
            raise ApiError(401, {"error": "invalid_credentials", "message": "The user credentials were incorrect."})
        if self.live_sessions(username) >= self.config.max_sessions:
            cap = self.config.max_sessions
            raise ApiError(
                429,
                {
                    "error": "too_many_concurrent_sessions",
                    "max_current_sessions": cap,
                    "message": (
                        f"Too many users. Only {cap} users can be logged in simultaneously in the back end. "
                        "Try again soon or upgrade your contract."
                    ),
                },
            )
        return self._issue(username)

    def _issue(self, username: str) -> dict[str, Any]:
        now = self._now()
        access = "sbx-at-" + secrets.token_urlsafe(24)
        refresh = "sbx-rt-" + secrets.token_urlsafe(24)
        self.state.tokens[access] = {
            "user": username,
            "expiresAt": now + self.config.token_lifetime_seconds,
            "refreshToken": refresh,
            "revoked": False,
        }
        self.state.refresh_tokens[refresh] = {
            "user": username,
            "expiresAt": now + self.config.refresh_token_lifetime_seconds,
            "accessToken": access,
        }
        lifetime = self.config.token_lifetime_seconds
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "access_token": access,
            "refresh_token": refresh,
            "concurrent_sessions": self.live_sessions(username),
            "max_current_sessions": self.config.max_sessions,
            "tokenType": "Bearer",
            "expiresIn": lifetime,
            "accessToken": access,
            "refreshToken": refresh,
        }

    def refresh(self, refresh_token: str | None, bearer: str | None) -> dict[str, Any]:
        """Exchange a refresh token (or the refresh token belonging to a still-known bearer) for a new pair;
        the old access and refresh tokens stop working."""
        record = self.state.refresh_tokens.get(refresh_token or "")
        if record is None and bearer and bearer in self.state.tokens:
            refresh_token = self.state.tokens[bearer]["refreshToken"]
            record = self.state.refresh_tokens.get(refresh_token or "")
        if record is None or record["expiresAt"] <= self._now():
            raise unauthenticated()
        old_access = self.state.tokens.get(record["accessToken"])
        if old_access is not None:
            old_access["revoked"] = True
        del self.state.refresh_tokens[refresh_token or ""]
        return self._issue(record["user"])

    def logout(self, bearer: str) -> None:
        token = self.state.tokens.get(bearer)
        if token is not None:
            token["revoked"] = True
            self.state.refresh_tokens.pop(token["refreshToken"], None)

    def check(self, authorization: str | None) -> tuple[str, Record]:
        """The bearer token and its record, or 401."""
        bearer = bearer_of(authorization)
        token = self.state.tokens.get(bearer or "")
        if bearer is None or token is None or token.get("revoked") or token["expiresAt"] <= self._now():
            raise unauthenticated()
        return bearer, token

    def prune(self) -> None:
        """Forget tokens that can no longer be used, so the state file does not grow forever."""
        now = self._now()
        for key in [k for k, t in self.state.tokens.items() if t.get("revoked") or t["expiresAt"] <= now]:
            if self.state.tokens[key]["refreshToken"] not in self.state.refresh_tokens:
                del self.state.tokens[key]
        for key in [k for k, r in self.state.refresh_tokens.items() if r["expiresAt"] <= now]:
            del self.state.refresh_tokens[key]


def bearer_of(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
