"""The web app on real HTTP for tests: uvicorn (lifespan on) in the test's own event loop, so the app
and the test share the ``db`` fixture's connections safely, plus signing helpers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from plentysync.db import Database
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.services import Engine
from plentysync.sandbox.wiring import SOURCE_WAREHOUSES
from plentysync.settings import Settings
from plentysync.sync import register_all
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.sync.stock.webhook import sign
from plentysync.web.server import GracefulServer, listen, server_config
from plentysync.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER

SECRET = "webhook-test-secret"


def web_settings(*, secret: str | None = SECRET, **webhook: Any) -> Settings:
    hook: dict[str, Any] = {"secret": secret, **webhook}
    return Settings(serve={"webhook": hook}, worker={"lost_after_seconds": 30})


@asynccontextmanager
async def live(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) and yield its base URL."""
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = GracefulServer(server_config(app, log_level="warning"), install_signal_handlers=False)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("the server stopped during startup")
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


async def stock_engine(db: Database, settings: Settings, *, profile: bool = True) -> Engine:
    """The engine with the stock profiles registered and (by default) the stock export profile enabled."""
    engine = Engine.build(db, register_all(ProfileRegistry()), settings)
    if profile:
        config = {"main_warehouse_id": 1, "stock_source_mapping": dict(SOURCE_WAREHOUSES)}
        await engine.profiles.create(EXPORT_TYPE_ID, config=config, enabled=True)
    return engine


def signed_headers(body: bytes, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sign(secret, stamp, body),
        "Content-Type": "application/json",
    }


def body_of(payload: Any) -> bytes:
    return json.dumps(payload).encode()
