"""List the routes a sandbox app serves, as (METHOD, path template) pairs.

Starlette routes are read from ``app.routes`` (Mounts included). A sandbox that dispatches itself behind a catch-all
route (the Magento sandbox: store-code prefixes, raw-path SKUs) keeps its own table; any object in ``app.state`` with
a ``routes`` list (directly or on its ``router``) whose items have ``method`` and ``segments`` or ``path`` is read
too."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import Mount, Route

_CONVERTOR = re.compile(r"\{([^}:]+)(:[^}]+)?\}")
_CATCH_ALL = re.compile(r"\{[^}]+:path\}")


def sample_path(template: str, value: str = "1") -> str:
    """A concrete path for a template: every parameter becomes ``value``."""
    return _CONVERTOR.sub(value, template)


def starlette_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from starlette_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and not _CATCH_ALL.search(route.path):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, prefix + route.path


def custom_routes(app: Any) -> Iterator[tuple[str, str]]:
    state = getattr(getattr(app, "state", None), "_state", {})
    holders = [*state.values(), *(getattr(value, "router", None) for value in state.values())]
    for candidate in holders:
        routes = getattr(candidate, "routes", None)
        if not isinstance(routes, list):
            continue
        for route in routes:
            method = getattr(route, "method", None)
            segments = getattr(route, "segments", None)
            path = "/" + "/".join(segments) if isinstance(segments, tuple | list) else getattr(route, "path", None)
            if isinstance(method, str) and isinstance(path, str):
                yield method.upper(), path


def sandbox_routes(app: Any) -> list[tuple[str, str]]:
    found = {*starlette_routes(getattr(app, "routes", [])), *custom_routes(app)}
    return sorted(found)
