"""The FastAPI application of ``plentysync serve``: one factory, one lifespan, one router per concern.

``create_app`` wires the routers (webhooks, /healthz, /metrics, and whatever the caller adds, e.g. the
admin UI later) to a :class:`WebServices` held in ``app.state``; route handlers get it through the
:func:`get_services` dependency. The lifespan opens the state database (or uses the one passed in),
checks its schema and builds the engine on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request

from plentysync import __version__
from plentysync.db import Database
from plentysync.db.migrate import ensure_schema
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.services import Engine
from plentysync.runtime.urgent import Publisher
from plentysync.settings import Settings
from plentysync.sync import register_all
from plentysync.web.publishing import SafePublisher
from plentysync.web.replay import ReplayGuard

TITLE = "plentysync"
DESCRIPTION = (
    "The HTTP side of plentysync: signed webhook intake (queues urgent work for the workers), "
    "`/healthz` for load balancers and `/metrics` for Prometheus."
)


@dataclass
class WebServices:
    """Everything a request handler needs, built once per application start."""

    settings: Settings
    engine: Engine
    publisher: Publisher | None
    """Wakes the workers through the broker after an urgent enqueue; None: no broker configured."""
    replay: ReplayGuard


def get_services(request: Request) -> WebServices:
    """FastAPI dependency: the services of the running application."""
    services = getattr(request.app.state, "services", None)
    if not isinstance(services, WebServices):
        raise RuntimeError("the application has not started (lifespan not run)")
    return services


def default_routers() -> list[APIRouter]:
    # Imported here: the route modules import get_services from this one.
    from plentysync.web import health, metrics, webhooks

    return [webhooks.router, health.router, metrics.router]


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    publisher: Publisher | None = None,
    registry: ProfileRegistry | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The application. Without ``db`` the lifespan opens (and at shutdown closes) the database of
    ``settings``, checking its schema as every command does; a ``db`` passed in stays the caller's.
    ``routers`` are mounted after the built-in ones."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = db is None
        database = Database(settings.effective_database_url) if db is None else db
        try:
            if own:
                await database.sync_clock()
                await ensure_schema(database)
            engine = Engine.build(database, registry or register_all(ProfileRegistry()), settings)
            wrapped = None if publisher is None else SafePublisher(publisher, settings.broker.publish_timeout_seconds)
            app.state.services = WebServices(
                settings=settings,
                engine=engine,
                publisher=wrapped,
                replay=ReplayGuard(database, engine.clock, window_seconds=settings.serve.webhook.max_age_seconds),
            )
            yield
        finally:
            app.state.services = None
            if own:
                await database.dispose()

    app = FastAPI(title=TITLE, version=__version__, description=DESCRIPTION, lifespan=lifespan)
    for router in [*default_routers(), *routers]:
        app.include_router(router)
    return app
