"""``plentysync serve``: the HTTP side (webhook intake, /healthz, /metrics), see docs/serve.md.

The broker publisher (extra ``amqp``) is built only when ``broker_url`` is set and
:mod:`plentysync.runtime.broker` is importable; otherwise the webhook still queues, and the workers find
the rows on their next database drain.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import console
from plentysync.errors import UsageError
from plentysync.log import get_logger
from plentysync.runtime.urgent import Publisher
from plentysync.settings import Settings
from plentysync.web.app import create_app
from plentysync.web.server import GracefulServer, listen, server_config

log = get_logger(__name__)

BROKER_MODULE = "plentysync.runtime.broker"
FALLBACK = "webhook rows wait for the workers' database drain"


@asynccontextmanager
async def open_publisher(settings: Settings) -> AsyncIterator[Publisher | None]:
    """The broker's publisher for the lifetime of the server, or None: no ``broker_url``, or the broker
    module cannot be used (a warning is logged and the server runs without it).

    Uses ``plentysync.runtime.broker.open_publisher(settings)``, which returns an object with
    ``async publish(profile_type, keys, *, reason) -> bool`` (optionally ``async healthy() -> bool``
    and ``async aclose()``) or None; it is imported only when a broker is configured."""
    if not settings.broker_url:
        yield None
        return
    try:
        module = importlib.import_module(BROKER_MODULE)
        publisher = module.open_publisher(settings)
    except Exception as exc:  # extra amqp missing, bad broker_url, or the module failed to import
        log.warning("serve.broker_unavailable", error=type(exc).__name__, detail=str(exc)[:300], fallback=FALLBACK)
        yield None
        return
    if publisher is None:
        yield None
        return
    try:
        yield cast(Publisher, publisher)
    finally:
        close = getattr(publisher, "aclose", None)
        if close is not None:
            await close()


async def serve(*, host: str | None = None, port: int | None = None, common: Common = Common()) -> int:
    """Serve the webhook intake, /healthz and /metrics until SIGTERM or Ctrl-C.

    Parameters
    ----------
    host
        Address to listen on (default: serve.host, 127.0.0.1).
    port
        Port to listen on (default: serve.port, 8780).
    """
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is 0 (any free one) to 65535")
    async with open_engine(common) as engine:
        settings = engine.settings
        bind_host, bind_port = host or settings.serve.host, port if port is not None else settings.serve.port
        sock = listen(bind_host, bind_port)
        try:
            async with open_publisher(settings) as publisher:
                app = create_app(settings, db=engine.db, publisher=publisher, registry=engine.registry)
                server = GracefulServer(server_config(app))
                shown = f"[{bind_host}]" if ":" in bind_host else bind_host
                console.print(
                    f"Serving on http://{shown}:{sock.getsockname()[1]} (webhooks, /healthz, /metrics); "
                    f"broker: {'on' if publisher is not None else 'off'}. Stop with Ctrl-C or SIGTERM.",
                    soft_wrap=True,
                )
                log.info("serve.started", host=bind_host, port=sock.getsockname()[1], broker=publisher is not None)
                await server.serve(sockets=[sock])
                log.info("serve.stopped")
        finally:
            sock.close()
    return 0
