"""The ASGI app: URL layout (``/rest[/{store}]/V1/...``, optional ``/index.php``), authentication,
body and query parsing, dispatch to the route modules, ``fields=`` filtering, error bodies and
persistence of the state after writes."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from plentysync.clock import Clock, SystemClock
from plentysync.sandbox.magento import (
    routes_attributes,
    routes_catalog,
    routes_categories,
    routes_customers,
    routes_inventory,
    routes_sales,
    routes_system,
)
from plentysync.sandbox.magento.auth import Principal, bearer_principal, verify_oauth
from plentysync.sandbox.magento.config import MagentoSandboxConfig
from plentysync.sandbox.magento.errors import NO_ROUTE, MagentoError, unauthorized
from plentysync.sandbox.magento.router import Ctx, Router, StoreScope, check_body_keys
from plentysync.sandbox.magento.search import apply_fields, parse_fields, parse_php_query
from plentysync.sandbox.magento.state import MagentoState

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def build_router() -> Router:
    router = Router()
    modules = (
        routes_system,
        routes_catalog,
        routes_attributes,
        routes_categories,
        routes_customers,
        routes_sales,
        routes_inventory,
    )
    for module in modules:
        router.include(module.router)
    return router


def _split_path(raw_path: str) -> tuple[str | None, list[str]]:
    """``/index.php/rest/de/V1/products/A%2FB`` -> (``"de"``, ``["products", "A/B"]``)."""
    parts = raw_path.split("/")[1:]
    if parts and parts[0] == "index.php":
        parts = parts[1:]
    if len(parts) < 2 or parts[0] != "rest":
        raise MagentoError(404, NO_ROUTE)
    parts = parts[1:]
    store_code: str | None = None
    if parts[0] != "V1":
        store_code = unquote(parts[0])
        parts = parts[1:]
    if not parts or parts[0] != "V1":
        raise MagentoError(404, NO_ROUTE)
    segments = [unquote(p) for p in parts[1:]]
    while segments and segments[-1] == "":
        segments.pop()
    return store_code, segments


def _scope(state: MagentoState, code: str | None) -> StoreScope:
    """Unknown store codes fall through Magento's path processor into the route match, so they give
    404 "Request does not match any route." (as in ``Magento\\Webapi\\Controller\\PathProcessor``)."""
    if code == "all":
        return StoreScope("all", 0, 1)
    view = state.store_view_by_code(code or "default")
    if view is None and code is None:
        view = min((v for v in state.store_views.values() if v["id"] != 0), key=lambda v: v["id"], default=None)
    if view is None or view["id"] == 0:
        raise MagentoError(404, NO_ROUTE)
    return StoreScope(code, int(view["id"]), int(view["website_id"]))


class MagentoApp:
    def __init__(self, state: MagentoState, config: MagentoSandboxConfig, clock: Clock) -> None:
        self.state = state
        self.config = config
        self.clock = clock
        self.router = build_router()

    def _principal(self, request: Request, raw_path: str, query: str, body: bytes) -> Principal:
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "oauth ":
            host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
            form = None
            if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                form = body.decode("utf-8", "replace")
            verify_oauth(
                self.state,
                self.config,
                method=request.method,
                url=f"{request.url.scheme}://{host}{raw_path}",
                query=query,
                authorization=header,
                form_body=form,
            )
            return "integration"
        if header[:7].lower() == "bearer ":
            return bearer_principal(self.state, self.config, header[7:].strip(), self.clock.now())
        return "guest"

    async def endpoint(self, request: Request) -> Response:
        try:
            result = await self._handle(request)
        except MagentoError as error:
            return JSONResponse(error.body(), status_code=error.status)
        except Exception:  # Magento hides every unhandled error behind a report id
            report = secrets.token_hex(6)
            return JSONResponse(
                {"message": f"Internal Error. Details are available in Magento log file. Report ID: webapi-{report}"},
                status_code=500,
            )
        fields = request.query_params.get("fields")
        if fields:
            result = apply_fields(result, parse_fields(fields))
        if request.method in ("POST", "PUT", "DELETE") and self.config.state_file is not None:
            self.state.save(self.config.state_file)
        return JSONResponse(result)

    async def _handle(self, request: Request) -> Any:
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        raw_path = raw.decode("latin-1").split("?", 1)[0]
        query_string = request.scope.get("query_string", b"").decode("latin-1")
        store_code, segments = _split_path(raw_path)
        route, params = self.router.resolve(request.method, segments)
        scope = _scope(self.state, store_code)
        body_bytes = await request.body()
        principal = self._principal(request, raw_path, query_string, body_bytes)
        if route.resource is not None and principal == "guest":
            raise unauthorized(route.resource)
        body: Any = None
        if body_bytes.strip() and request.method in ("POST", "PUT", "DELETE"):
            try:
                body = json.loads(body_bytes)
            except ValueError as exc:
                raise MagentoError(400, "Decoding error: %1", [str(exc)]) from None
        check_body_keys(route, body)
        query = parse_php_query(parse_qsl(query_string, keep_blank_values=True))
        ctx = Ctx(self.state, self.config, self.clock, request, scope, params, query, body)
        return route.handler(ctx)


def create_magento_app(
    state: MagentoState | None = None,
    config: MagentoSandboxConfig | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """The simulated Magento 2.4.8 admin REST API. ``app.state.sandbox`` is the :class:`MagentoState`."""
    config = config or MagentoSandboxConfig()
    if state is None:
        if config.state_file is not None and config.state_file.exists():
            state = MagentoState.load(config.state_file)
        else:
            state = MagentoState()
    magento = MagentoApp(state, config, clock or SystemClock())
    app = Starlette(routes=[StarletteRoute("/{path:path}", magento.endpoint, methods=METHODS)])
    app.state.sandbox = state
    app.state.magento = magento
    return app
