"""Records every request and response that passes a sandbox server, so contract tests can check
each of them against the official OpenAPI specs and integration tests can count calls."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from plentysync.sandbox.faults import CONTROL_PREFIX, ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Exchange:
    """One request and the response the sandbox gave (bodies decoded when they are JSON)."""

    system: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    request_body: Any
    request_content_type: str
    status: int
    response_body: Any
    response_headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.response_headers if key == lowered), None)


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type or raw[:1] in (b"{", b"["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


class Recorder:
    """A thread-safe list of exchanges."""

    def __init__(self) -> None:
        self._items: list[Exchange] = []
        self._lock = threading.Lock()

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._items.append(exchange)

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        return sum(
            1
            for e in self.exchanges()
            if (method is None or e.method == method) and (path_contains is None or path_contains in e.path)
        )


class RecordingMiddleware:
    def __init__(self, app: ASGIApp, recorder: Recorder, *, system: str) -> None:
        self.app = app
        self.recorder = recorder
        self.system = system

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        response: dict[str, Any] = {"status": 0, "headers": [], "recorded": False}

        def record() -> None:
            if response["recorded"]:
                return
            response["recorded"] = True
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            response_type = next((v for k, v in response["headers"] if k == "content-type"), "")
            self.recorder.add(
                Exchange(
                    system=self.system,
                    method=scope["method"],
                    path=scope["path"],
                    query=tuple(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)),
                    request_body=_decode(b"".join(request_chunks), headers.get("content-type", "")),
                    request_content_type=headers.get("content-type", ""),
                    status=response["status"],
                    response_body=_decode(b"".join(response_chunks), response_type),
                    response_headers=tuple(response["headers"]),
                )
            )

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = [(k.decode().lower(), v.decode()) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                response_chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    # Record before the last byte leaves, so a client that got its answer finds it recorded.
                    record()
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            record()
