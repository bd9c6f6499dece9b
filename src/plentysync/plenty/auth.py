"""Password-grant login, refresh and logout for one PlentyONE back-end user.

Logins are expensive and capped (three concurrent sessions by default; one more answers 429
``too_many_concurrent_sessions``), so the token is shared by every task of the process and every
renewal is *single-flight*: callers queue on one lock, and whoever gets it second checks whether the
token changed while it waited before doing anything. N concurrent callers cause one login.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx2

from plentysync.errors import FatalError, RateLimitedError, RetryableError
from plentysync.http.client import HttpClient, decode_body, default_error_message
from plentysync.http.retry_after import parse_retry_after
from plentysync.log import get_logger
from plentysync.plenty.models.auth import TokenResponse
from plentysync.plenty.throttle import SESSION_CAP_MARKER

if TYPE_CHECKING:
    from plentysync.plenty.sessions import TakeOver

log = get_logger(__name__)

LOGIN_PATH = "/rest/login"
REFRESH_PATH = "/rest/login/refresh"
LOGOUT_PATH = "/rest/logout"
LOGOUT_GRACE_SECONDS = 5.0
"""How long a cancelled process still waits for its logout to go through."""


@dataclass(frozen=True)
class PlentyCredentials:
    username: str
    password: str = field(repr=False)


@dataclass
class Token:
    access: str
    refresh: str | None
    expires_at: float
    """When to renew (the clock's time): some margin before the token really expires."""
    valid_until: float = 0.0
    """When the token really expires (the clock's time)."""


class SessionStore(Protocol):
    """Where a process records its live session, so the next process can take over or revoke what a
    dead one left (:class:`plentysync.plenty.sessions.DbSessionStore`)."""

    lease_seconds: float

    async def take_over(self) -> TakeOver: ...

    async def save(self, session_id: int | None, access: str, refresh: str | None, expires_in: float) -> int: ...

    async def renew(self, session_id: int) -> bool: ...

    async def forget(self, session_id: int) -> None: ...


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
        sessions: SessionStore | None = None,
    ) -> None:
        self.credentials = credentials
        self.settings = settings or AuthSettings()
        self.clock = clock
        self.sessions = sessions
        self.http: HttpClient | None = None
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self._session_id: int | None = None
        self._lease_renewed_at = 0.0
        self.logins = 0
        self.refreshes = 0
        self.taken_over = 0
        """Sessions taken over from a dead process instead of logging in."""
        self.revoked = 0
        """Sessions of dead processes this process logged out."""

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
        await self._keep_lease()

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
            if current is None and self.sessions is not None:
                token = await self._take_over()
                if token is not None:
                    return token
            return await self._login()

    def _token_of(self, access: str, refresh: str | None, expires_in: float | None) -> Token:
        lifetime = 86400.0 if expires_in is None or expires_in <= 0 else expires_in
        margin = min(self.settings.refresh_margin, lifetime / 10)
        now = self.clock()
        return Token(access, refresh, now + lifetime - margin, now + lifetime)

    async def _store(self, token: TokenResponse) -> Token:
        assert token.access_token is not None
        self._token = self._token_of(token.access_token, token.refresh_token, token.expires_in)
        await self._record(self._token)
        return self._token

    # -- sessions kept in the state database -------------------------------------------------

    async def _record(self, token: Token) -> None:
        if self.sessions is None:
            return
        try:
            left = max(0.0, token.valid_until - self.clock())
            self._session_id = await self.sessions.save(self._session_id, token.access, token.refresh, left)
            self._lease_renewed_at = self.clock()
        except Exception as exc:  # the database being away must not stop the sync: the session works
            log.warning("plenty_session_not_recorded", error=f"{type(exc).__name__}: {exc}"[:300])

    async def _take_over(self) -> Token | None:
        """A session a dead process left, instead of a login; the other dead ones are logged out."""
        assert self.sessions is not None
        try:
            found = await self.sessions.take_over()
        except Exception as exc:
            log.warning("plenty_session_lookup_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return None
        for stale in found.revoke:
            await self._send_logout(stale.access)
            self.revoked += 1
            log.info("plenty_session_revoked", user=self.credentials.username, holder=stale.holder)
        if found.session is None:
            return None
        session = found.session
        self._session_id = session.id
        self._lease_renewed_at = self.clock()
        self._token = self._token_of(session.access, session.refresh, session.expires_in)
        self.taken_over += 1
        log.info("plenty_session_taken_over", user=self.credentials.username, holder=session.holder)
        return self._token

    async def _keep_lease(self) -> None:
        """Renew the session's lease now and then while it is in use (a quarter of the lease)."""
        if self.sessions is None or self._session_id is None:
            return
        if self.clock() - self._lease_renewed_at < self.sessions.lease_seconds / 4:
            return
        self._lease_renewed_at = self.clock()
        try:
            if not await self.sessions.renew(self._session_id):
                self._session_id = None  # another process took it over: it is theirs to log out
        except Exception as exc:
            log.warning("plenty_session_not_renewed", error=f"{type(exc).__name__}: {exc}"[:300])

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
            return await self._store(token)
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
        return await self._store(token)

    async def logout(self) -> None:
        """Free the session (the cap counts live sessions); failures are logged, not raised. Runs to the
        end even when the task is cancelled meanwhile (Ctrl-C, SIGTERM): a session left behind counts
        against the cap for a day."""
        async with self._lock:
            token, self._token = self._token, None
            session_id, self._session_id = self._session_id, None
        if token is None:
            return
        done = asyncio.ensure_future(self._end_session(token.access, session_id))
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(done, timeout=LOGOUT_GRACE_SECONDS)
            raise

    async def _end_session(self, access: str, session_id: int | None) -> None:
        await self._send_logout(access)
        if self.sessions is not None and session_id is not None:
            try:
                await self.sessions.forget(session_id)
            except Exception as exc:
                log.warning("plenty_session_not_forgotten", error=f"{type(exc).__name__}: {exc}"[:300])

    async def _send_logout(self, access: str) -> None:
        if self.http is None:
            return
        request = self.http.build_request("POST", LOGOUT_PATH, headers={"Authorization": f"Bearer {access}"})
        try:
            await self.http.send_raw(request)
        except httpx2.HTTPError as exc:
            log.info("plenty_logout_failed", error=type(exc).__name__)
