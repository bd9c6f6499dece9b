"""The shared async HTTP base of both adapters (httpx2).

One request goes: budget gate → auth → send → log → classify the response with the status policy →
return, or raise a typed error that stamina retries when it is safe. "Safe" is the point: a request
that is not idempotent (creating an order, a contact, a payment; a relative stock booking) is never
repeated after an ambiguous failure — a timeout or dropped connection after sending, or a 5xx —
because the server may have applied it. That raises :class:`OutcomeUnknownError` and the caller
reconciles (looks the record up) before trying again. A 429 and a refused connection are always
safe: the server did not apply anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import httpx2
import stamina

from plentysync.errors import (
    AuthExpiredError,
    FatalError,
    LeaseLostError,
    OutcomeUnknownError,
    RateLimitedError,
    RemoteNotFoundError,
    RemoteValidationError,
    RetryableError,
)
from plentysync.http.budget import Kind, RateBudget
from plentysync.http.policy import Action, StatusPolicy
from plentysync.http.requestlog import RequestLog
from plentysync.http.retry_after import parse_retry_after
from plentysync.http.stats import API_CALLS
from plentysync.log import get_logger

log = get_logger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
WRITE_FENCE: ContextVar[Callable[[], None] | None] = ContextVar("plentysync_write_fence", default=None)
"""Called right before a write goes out (after its budget wait); raises to stop it. A run sets it to
its lease check, so a worker that lost its rows never writes for them."""

_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


class Auth(Protocol):
    async def prepare(self, request: httpx2.Request) -> None:
        """Put credentials on ``request`` (logging in first if needed)."""
        ...

    async def refresh(self, request: httpx2.Request) -> bool:
        """The server answered 401 to ``request``: renew the credentials. True if the request may be
        sent again with new ones."""
        ...


@dataclass(frozen=True)
class RetryConfig:
    attempts: int = 5
    """Tries per request, the first included."""
    timeout: float = 120.0
    """No new attempt starts after this many seconds."""
    wait_initial: float = 0.5
    wait_max: float = 30.0
    wait_jitter: float = 1.0


@dataclass(frozen=True)
class HttpConfig:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    write_timeout: float = 60.0
    pool_timeout: float = 30.0
    max_connections: int = 20
    max_keepalive_connections: int = 10
    retry: RetryConfig = field(default_factory=RetryConfig)
    user_agent: str = "plentysync"


def default_error_message(body: Any, status: int) -> str:
    """A readable message from the error envelopes of both systems."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            message = str(error["message"])
        elif isinstance(error, str):
            message = str(body.get("message") or error)
        elif body.get("message"):
            message = render_placeholders(str(body["message"]), body.get("parameters"))
        else:
            message = f"HTTP {status}"
        details = body.get("validation_errors")
        if isinstance(details, Mapping) and details:
            parts = [f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in details.items()]
            message = f"{message} ({', '.join(parts)})"
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            rendered = [
                render_placeholders(str(e.get("message", "")), e.get("parameters"))
                for e in errors
                if isinstance(e, dict)
            ]
            message = f"{message} ({'; '.join(filter(None, rendered))})"
        return message
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return f"HTTP {status}"


def render_placeholders(message: str, parameters: Any) -> str:
    """Magento keeps ``%name`` / ``%1`` placeholders in messages; fill them in."""
    if isinstance(parameters, Mapping):
        for key in sorted(parameters, key=len, reverse=True):
            message = message.replace(f"%{key}", str(parameters[key]))
    elif isinstance(parameters, list):
        for index in range(len(parameters), 0, -1):
            message = message.replace(f"%{index}", str(parameters[index - 1]))
    return message


def decode_body(response: httpx2.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class HttpClient:
    """A connection pool to one API with the behaviour described in the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        policy: StatusPolicy | None = None,
        auth: Auth | None = None,
        budget: RateBudget | None = None,
        request_log: RequestLog | None = None,
        config: HttpConfig | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        error_message: Callable[[Any, int], str] = default_error_message,
    ) -> None:
        self.name = name
        self.config = config or HttpConfig()
        self.policy = policy or StatusPolicy()
        self.auth = auth
        self.budget = budget
        self.request_log = request_log
        self.error_message = error_message
        cfg = self.config
        self._client = httpx2.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx2.Timeout(
                connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.write_timeout, pool=cfg.pool_timeout
            ),
            limits=httpx2.Limits(
                max_connections=cfg.max_connections, max_keepalive_connections=cfg.max_keepalive_connections
            ),
            headers={"Accept": "application/json", "User-Agent": cfg.user_agent, **(headers or {})},
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        if self.request_log is not None:
            self.request_log.close()

    async def send_raw(self, request: httpx2.Request) -> httpx2.Response:
        """Send without budget, auth or retries (logins use this)."""
        started = time.perf_counter()
        try:
            response = await self._client.send(request)
        except httpx2.HTTPError as exc:
            self._log(request, None, started, 1, error=type(exc).__name__)
            raise
        self._log(request, response, started, 1)
        return response

    def build_request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Request:
        return self._client.build_request(method, path, params=params, json=json, data=data, headers=headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        kind: Kind | None = None,
    ) -> httpx2.Response:
        """Send one logical request, retrying what may be retried. Returns a 2xx response or raises a
        :class:`~plentysync.errors.SyncError` subclass."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        call_kind: Kind = kind or ("read" if method in ("GET", "HEAD") else "write")
        state = {"refreshed": False, "attempt": 0}
        retry = self.config.retry
        async for attempt in stamina.retry_context(
            on=_backoff_hook,
            attempts=retry.attempts,
            timeout=timedelta(seconds=retry.timeout),
            wait_initial=retry.wait_initial,
            wait_max=retry.wait_max,
            wait_jitter=retry.wait_jitter,
        ):
            with attempt:
                state["attempt"] += 1
                return await self._attempt(
                    method, path, params, json, data, headers, safe=safe, kind=call_kind, state=state
                )
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Any,
        json: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        *,
        safe: bool,
        kind: Kind,
        state: dict[str, Any],
    ) -> httpx2.Response:
        request = self.build_request(method, path, params=params, json=json, data=data, headers=headers)
        fence = WRITE_FENCE.get() if kind == "write" else None
        if self.budget is None:
            if fence is not None:
                fence()
            response = await self._send(request, safe=safe, attempt=state["attempt"])
        else:
            async with self.budget.slot(kind):
                if fence is not None:
                    fence()  # after the budget wait, which can be long
                response = await self._send(request, safe=safe, attempt=state["attempt"])
                self.budget.observe(kind, response.headers)
        return await self._judge(request, response, safe=safe, kind=kind, state=state)

    async def _send(self, request: httpx2.Request, *, safe: bool, attempt: int) -> httpx2.Response:
        if self.auth is not None:
            await self.auth.prepare(request)
        started = time.perf_counter()
        try:
            response = await self._client.send(request)
        except _NOT_SENT as exc:
            self._log(request, None, started, attempt, error=type(exc).__name__)
            API_CALLS.record(self.name, request.method, request.url.path, type(exc).__name__)
            raise RetryableError(f"{self.name}: cannot connect ({type(exc).__name__}: {exc})") from exc
        except httpx2.TransportError as exc:
            self._log(request, None, started, attempt, error=type(exc).__name__)
            API_CALLS.record(self.name, request.method, request.url.path, type(exc).__name__)
            what = "timed out" if isinstance(exc, httpx2.TimeoutException) else "connection lost"
            if safe:
                raise RetryableError(f"{self.name}: {request.method} {request.url.path} {what}") from exc
            raise OutcomeUnknownError(
                f"{self.name}: {request.method} {request.url.path} {what} after sending; the server may have "
                "applied it",
                method=request.method,
                url=str(request.url),
            ) from exc
        self._log(request, response, started, attempt)
        API_CALLS.record(self.name, request.method, request.url.path, response.status_code)
        return response

    async def _judge(
        self, request: httpx2.Request, response: httpx2.Response, *, safe: bool, kind: Kind, state: dict[str, Any]
    ) -> httpx2.Response:
        status = response.status_code
        action = self.policy.classify(status, response.text if status >= 300 else "")
        if action is Action.OK:
            return response
        body = decode_body(response)
        where = f"{self.name}: {request.method} {request.url.path}"
        message = f"{where} → {status}: {self.error_message(body, status)}"
        if action is Action.RATE_LIMITED:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if self.budget is not None:
                self.budget.gates[kind].penalize(retry_after)
            raise RateLimitedError(message, retry_after=retry_after, status=status, body=body)
        if action is Action.REFRESH_AUTH:
            if self.auth is not None and not state["refreshed"] and await self.auth.refresh(request):
                state["refreshed"] = True
                raise AuthExpiredError(message, status=status, body=body)
            raise FatalError(f"{message} (credentials rejected)", status=status, body=body)
        if action is Action.VALIDATION:
            raise RemoteValidationError(message, status=status, body=body)
        if action is Action.NOT_FOUND:
            raise RemoteNotFoundError(message, status=status, body=body)
        if action is Action.RETRY:
            if safe:
                raise RetryableError(message, status=status, body=body)
            raise OutcomeUnknownError(
                f"{message}; the server may have applied it",
                method=request.method,
                url=str(request.url),
                status=status,
                body=body,
            )
        raise FatalError(message, status=status, body=body)

    def _log(
        self,
        request: httpx2.Request,
        response: httpx2.Response | None,
        started: float,
        attempt: int,
        *,
        error: str | None = None,
    ) -> None:
        if self.request_log is None:
            return
        self.request_log.record(
            method=request.method,
            url=str(request.url),
            request_body=request.content if request.content else None,
            status=None if response is None else response.status_code,
            response_body=None if response is None else response.content,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            attempt=attempt,
            error=error,
        )


def _backoff_hook(exc: Exception) -> bool | float:
    """stamina's ``on``: False = give up, True = exponential backoff, a float = wait exactly that."""
    if isinstance(exc, LeaseLostError):
        return False
    if isinstance(exc, RateLimitedError):
        return True if exc.retry_after is None else exc.retry_after
    if isinstance(exc, AuthExpiredError):
        return 0.0
    return isinstance(exc, RetryableError)
