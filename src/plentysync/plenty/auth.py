"""Password-grant login, refresh and logout for one PlentyONE back-end user.

Logins are expensive and capped (three concurrent sessions by default; one more answers 429
``too_many_concurrent_sessions``), so the token is shared by every task of the process and every
renewal is *single-flight*: callers queue on one lock, and whoever gets it second checks whether the
token changed while it waited before doing anything. N concurrent callers cause one login.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2

from plentysync.errors import FatalError, RateLimitedError, RetryableError
from plentysync.http.client import HttpClient, decode_body, default_error_message
from plentysync.http.retry_after import parse_retry_after
from plentysync.log import get_logger
from plentysync.plenty.models.auth import TokenResponse
from plentysync.plenty.throttle import SESSION_CAP_MARKER

log = get_logger(__name__)

LOGIN_PATH = "/rest/login"
REFRESH_PATH = "/rest/login/refresh"
LOGOUT_PATH = "/rest/logout"


@dataclass(frozen=True)
class PlentyCredentials:
    username: str
    password: str = field(repr=False)


@dataclass
class Token:
    access: str
    refresh: str | None
    expires_at: float


@dataclass(frozen=True)
class AuthSettings:
    refresh_margin: float = 600.0
    """Renew this many seconds before the token expires (capped at a tenth of its lifetime)."""
    session_cap_retry_after: float = 30.0
    """Wait this long after ``too_many_concurrent_sessions`` when the answer has no Retry-After."""


class PlentyAuth:
    """The :class:`~plentysync.http.client.Auth` of the PlentyONE client."""

    def __init__(
        self,
        credentials: PlentyCredentials,
        settings: AuthSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.settings = settings or AuthSettings()
        self.clock = clock
        self.http: HttpClient | None = None
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.logins = 0
        self.refreshes = 0

    def bind(self, http: HttpClient) -> None:
        self.http = http

    @property
    def token(self) -> Token | None:
        return self._token

    def _fresh(self, token: Token | None) -> bool:
        return token is not None and self.clock() < token.expires_at

    async def prepare(self, request: httpx2.Request) -> None:
        token = self._token
        if not self._fresh(token):
            token = await self._renew(stale=token)
        assert token is not None
        request.headers["Authorization"] = f"Bearer {token.access}"

    async def refresh(self, request: httpx2.Request) -> bool:
        """The server answered 401: renew unless another task already did since ``request`` was sent."""
        used = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        current = self._token
        await self._renew(stale=current if current is not None and current.access == used else None, force=True)
        return True

    async def ensure_login(self) -> Token:
        token = self._token
        if self._fresh(token):
            assert token is not None
            return token
        return await self._renew(stale=token)

    async def _renew(self, *, stale: Token | None, force: bool = False) -> Token:
        async with self._lock:
            current = self._token
            if current is not None and current is not stale and (force or self._fresh(current)):
                return current
            if current is not None and current.refresh:
                token = await self._try_refresh(current)
                if token is not None:
                    return token
            return await self._login()

    def _expiry(self, expires_in: float | None) -> float:
        lifetime = 86400.0 if expires_in is None or expires_in <= 0 else expires_in
        margin = min(self.settings.refresh_margin, lifetime / 10)
        return self.clock() + lifetime - margin

    def _store(self, token: TokenResponse) -> Token:
        assert token.access_token is not None
        self._token = Token(token.access_token, token.refresh_token, self._expiry(token.expires_in))
        return self._token

    def _client(self) -> HttpClient:
        if self.http is None:
            raise RuntimeError("PlentyAuth is not bound to an HttpClient")
        return self.http

    async def _post(self, request: httpx2.Request, what: str) -> httpx2.Response:
        try:
            return await self._client().send_raw(request)
        except httpx2.HTTPError as exc:
            where = f"{request.url.scheme}://{request.url.netloc.decode()}"
            raise RetryableError(f"PlentyONE {what} at {where} failed: {type(exc).__name__}") from exc

    async def _login(self) -> Token:
        http = self._client()
        request = http.build_request(
            "POST",
            LOGIN_PATH,
            json={"username": self.credentials.username, "password": self.credentials.password},
        )
        response = await self._post(request, "login")
        self.logins += 1
        body = decode_body(response)
        token = TokenResponse.parse(body) if response.status_code == 200 else None
        if token is not None:
            log.info("plenty_login", user=self.credentials.username)
            return self._store(token)
        self._token = None
        raise self._login_error(response, body)

    def _login_error(self, response: httpx2.Response, body: object) -> Exception:
        status = response.status_code
        user = self.credentials.username
        detail = default_error_message(body, status)
        if status == 429 or SESSION_CAP_MARKER in response.text:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimitedError(
                f"PlentyONE login of {user!r}: too many concurrent sessions ({detail}); another process holds "
                "the sessions — retrying later",
                retry_after=self.settings.session_cap_retry_after if wait is None else wait,
                status=status,
                body=body,
            )
        if status in (401, 403) or (isinstance(body, dict) and body.get("error") == "invalid_credentials"):
            why = "account locked or missing rights" if status == 403 else "wrong username or password"
            return FatalError(
                f"PlentyONE rejected the login of user {user!r} ({why}; HTTP {status}: {detail})",
                status=status,
                body=body,
            )
        if status >= 500 or status == 408:
            return RetryableError(f"PlentyONE login failed: HTTP {status}: {detail}", status=status, body=body)
        return FatalError(
            f"PlentyONE login of {user!r} answered HTTP {status} without a token ({detail}); is the base URL the "
            "exact https address of the system?",
            status=status,
            body=body,
        )

    async def _try_refresh(self, current: Token) -> Token | None:
        """Exchange the refresh token; None when it is rejected (expired) so the caller logs in."""
        http = self._client()
        request = http.build_request(
            "POST",
            REFRESH_PATH,
            params={"refresh_token": current.refresh} if current.refresh else None,
            headers={"Authorization": f"Bearer {current.access}"},
        )
        try:
            response = await self._post(request, "token refresh")
        except RetryableError:
            return None
        self.refreshes += 1
        token = TokenResponse.parse(decode_body(response)) if response.status_code == 200 else None
        if token is None:
            log.info("plenty_refresh_rejected", status=response.status_code)
            return None
        if token.refresh_token is None:
            token.refresh_token = current.refresh
        return self._store(token)

    async def logout(self) -> None:
        """Free the session (the cap counts live sessions); failures are logged, not raised."""
        async with self._lock:
            token, self._token = self._token, None
        if token is None or self.http is None:
            return
        request = self.http.build_request("POST", LOGOUT_PATH, headers={"Authorization": f"Bearer {token.access}"})
        try:
            await self.http.send_raw(request)
        except httpx2.HTTPError as exc:
            log.info("plenty_logout_failed", error=type(exc).__name__)
