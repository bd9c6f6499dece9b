"""Fault injection for the sandbox servers: latency, 429 storms, 5xx, dropped connections (before or
after the server applied the write) and expired tokens, set for a whole run or per route.

Faults live in an ASGI middleware in front of either sandbox app, so the apps themselves stay
faithful and simple. Rules are data (:class:`FaultRule`), settable from Python, from the command
line (``plentysync sandbox --fault ...``) and over HTTP (``/__sandbox/faults``) by tests that run
the servers out of process.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, get_args

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FaultKind = Literal["latency", "latency_after", "status", "rate_limit", "drop_before", "drop_after", "expire_token"]
System = Literal["plenty", "magento"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
CONTROL_PREFIX = "/__sandbox"


class TokenStore(Protocol):
    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far, as if they had expired."""


class DroppedConnection(Exception):  # noqa: N818 - it is a signal for the server, not an error
    """Raised inside the ASGI app after the response headers went out: uvicorn closes the socket,
    so the client sees the connection die mid-response."""


@dataclass
class FaultRule:
    """One fault. ``method``/``path`` (a regular expression searched in the path) narrow where it
    applies; ``skip`` lets that many matching requests through first; ``times`` limits how often
    it fires (``None``: always); ``probability`` makes it random (seeded, so runs repeat)."""

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    skip: int = 0
    times: int | None = None
    probability: float = 1.0
    latency_ms: float = 0.0
    status: int = 503
    retry_after: float = 1.0
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.path is not None:
            re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        allowed = {f for f in cls.__dataclass_fields__ if f not in ("seen", "fired")}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """Parse the command-line form ``kind[:key=value,...]``, e.g.
        ``status:status=500,times=3,path=/rest/orders`` or ``latency:latency_ms=20``."""
        kind, _, rest = text.partition(":")
        data: dict[str, Any] = {"kind": kind.strip()}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"fault option {part!r} is not key=value")
            data[key.strip()] = _coerce(key.strip(), value.strip())
        return cls.from_dict(data)


def _coerce(key: str, value: str) -> Any:
    if key in ("skip", "times", "status"):
        return int(value)
    if key in ("probability", "latency_ms", "retry_after"):
        return float(value)
    return value


class FaultInjector:
    """The active rules of one sandbox server. Thread-safe: tests change rules while the server
    runs in another thread."""

    def __init__(self, rules: list[FaultRule] | None = None, *, seed: int = 1) -> None:
        self._rules: list[FaultRule] = list(rules or [])
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def select(self, method: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request (at most one of each kind), counting them."""
        chosen: list[FaultRule] = []
        kinds: set[str] = set()
        with self._lock:
            for rule in self._rules:
                if rule.kind in kinds or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                rule.fired += 1
                kinds.add(rule.kind)
                chosen.append(rule)
        return chosen


def _json_body(system: System, status: int) -> bytes:
    if system == "plenty":
        if status == 429:
            body: Any = {"error": {"message": "short period read limit reached", "code": 429}}
        else:
            body = {"error": {"message": "Internal server error", "code": status}}
    elif status == 429:
        body = {"message": "Too Many Requests", "trace": None}
    else:
        body = {"message": "Internal Error. Details are available in Magento log file. Report ID: webapi-sandbox"}
    return json.dumps(body).encode()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
        }
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise DroppedConnection("sandbox fault: connection dropped")


class FaultMiddleware:
    """Applies the injector's rules in front of ``app``; serves ``/__sandbox/faults`` for remote
    control (GET lists, POST adds one rule, DELETE clears)."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, *, system: System, tokens: TokenStore) -> None:
        self.app = app
        self.injector = injector
        self.system = system
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX + "/faults"):
            await self._control(scope, receive, send)
            return
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        rules = {rule.kind: rule for rule in self.injector.select(scope["method"], path)}
        if "latency" in rules:
            await asyncio.sleep(rules["latency"].latency_ms / 1000)
        if "expire_token" in rules:
            self.tokens.expire_tokens()
        if "drop_before" in rules:
            await _drop(send)
        if "rate_limit" in rules:
            retry_after = rules["rate_limit"].retry_after
            headers = [(b"retry-after", str(max(0, math.ceil(retry_after))).encode())]
            await _respond(send, 429, _json_body(self.system, 429), headers)
            return
        if "status" in rules:
            await _respond(send, rules["status"].status, _json_body(self.system, rules["status"].status))
            return
        if "drop_after" in rules:
            await self.app(scope, receive, _swallow)
            await _drop(send)
        if "latency_after" in rules:
            await self.app(scope, receive, _delayed(send, rules["latency_after"].latency_ms / 1000))
            return
        await self.app(scope, receive, send)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "GET":
            await _respond(send, 200, json.dumps([r.to_dict() for r in self.injector.rules()]).encode())
            return
        if method == "DELETE":
            self.injector.clear()
            await _respond(send, 200, b"true")
            return
        if method == "POST":
            raw = b""
            while True:
                message = await receive()
                raw += message.get("body", b"")
                if not message.get("more_body"):
                    break
            try:
                rule = self.injector.add(FaultRule.from_dict(json.loads(raw or b"{}")))
            except (ValueError, TypeError) as exc:
                await _respond(send, 400, json.dumps({"message": str(exc)}).encode())
                return
            await _respond(send, 200, json.dumps(rule.to_dict()).encode())
            return
        await _respond(send, 405, b'{"message": "method not allowed"}')


def _delayed(send: Send, seconds: float) -> Send:
    """A ``send`` that holds the response back after the app has applied the request: a worker killed
    meanwhile has had its write applied without learning so."""

    async def delayed(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(seconds)
        await send(message)

    return delayed


async def _swallow(_message: Message) -> None:
    """A ``send`` that discards the response: the write was applied, the client never hears of it."""
