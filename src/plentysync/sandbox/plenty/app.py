"""The Starlette app: routing, bearer auth, throttling headers, error envelopes, state persistence."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plentysync.clock import Clock
from plentysync.sandbox.plenty import (
    routes_auth,
    routes_categories,
    routes_contacts,
    routes_items,
    routes_orders,
    routes_payments,
    routes_reference,
    routes_stock,
)
from plentysync.sandbox.plenty.auth import Sessions
from plentysync.sandbox.plenty.config import PlentySandboxConfig
from plentysync.sandbox.plenty.context import Ctx, Handler, RouteSpec
from plentysync.sandbox.plenty.errors import ApiError, error_body
from plentysync.sandbox.plenty.state import PlentyState
from plentysync.sandbox.plenty.throttle import Kind, Throttle

log = logging.getLogger(__name__)

_COUNTED: list[RouteSpec] = [
    *routes_auth.ROUTES,
    *routes_reference.ROUTES,
    *routes_items.ROUTES,
    *routes_categories.ROUTES,
    *routes_stock.ROUTES,
    *routes_orders.ROUTES,
    *routes_payments.ROUTES,
    *routes_contacts.ROUTES,
]


class _Server:
    """Shared per-app objects the endpoints close over."""

    def __init__(self, state: PlentyState, config: PlentySandboxConfig) -> None:
        self.state = state
        self.config = config
        self.sessions = Sessions(state, config)
        self.throttle = Throttle(config)

    def persist(self, method: str) -> None:
        if method != "GET" and self.config.state_file is not None:
            self.state.save(self.config.state_file)

    def endpoint(self, handler: Handler, *, auth: bool, counted: bool) -> Any:
        async def run(request: Request) -> Response:
            headers: dict[str, str] = {}
            ctx = Ctx(request, self.state, self.config)
            try:
                if auth:
                    ctx.bearer, _ = self.sessions.check(request.headers.get("authorization"))
                    if counted:
                        kind: Kind = "read" if request.method in ("GET", "HEAD") else "write"
                        try:
                            headers = self.throttle.hit(ctx.bearer, kind, self.state.clock.now().timestamp())
                        except ApiError:
                            self.state.throttled_count += 1
                            raise
                result = await handler(ctx)
            except ApiError as exc:
                return JSONResponse(exc.body, status_code=exc.status, headers={**headers, **exc.headers})
            self.persist(request.method)
            response = result if isinstance(result, Response) else JSONResponse(result)
            response.headers.update(headers)
            return response

        return run


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "Not found", 405: "Method not allowed"}.get(status, "Error")
    return JSONResponse(error_body(message, status), status_code=status)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("plenty sandbox: unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("Internal server error", 500), status_code=500)


def create_plenty_app(
    state: PlentyState | None = None, config: PlentySandboxConfig | None = None, clock: Clock | None = None
) -> Starlette:
    """The simulated PlentyONE REST server; ``app.state.sandbox`` is its :class:`PlentyState`.

    Without ``state``: loaded from ``config.state_file`` when that exists, else ``PlentyState.minimal()``.
    """
    config = config or PlentySandboxConfig()
    if state is None:
        if config.state_file is not None and config.state_file.exists():
            state = PlentyState.load(config.state_file)
        else:
            state = PlentyState.minimal(config.plenty_id, clock)
    if clock is not None:
        state.clock = clock
    server = _Server(state, config)
    routes: list[Route] = []
    for specs, auth, counted in (
        (routes_auth.PUBLIC_ROUTES, False, False),
        (routes_auth.UNCOUNTED_ROUTES, True, False),
        (_COUNTED, True, True),
    ):
        for method, path, handler in specs:
            routes.append(Route(path, server.endpoint(handler, auth=auth, counted=counted), methods=[method]))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.sandbox = state
    app.state.sandbox_config = config
    return app
