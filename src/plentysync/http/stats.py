"""In-process counters of API calls by system, route and status, for ``/metrics``.

Every request the shared HTTP base sends is counted here. The worker copies a snapshot into its
heartbeat row, so ``plentysync serve`` can export the counters of every worker from one scrape
target. Routes are normalised (ids, SKUs and other variable segments become ``{id}``) so the label
set stays small whatever the catalogue.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

_KEEP_SEGMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z_-]*|V\d+)$")


def normalize_route(path: str) -> str:
    """``/rest/stockmanagement/warehouses/3/stock/bookIncomingItems`` →
    ``/rest/stockmanagement/warehouses/{id}/stock/bookIncomingItems``. Segments that are not plain
    words (numbers, SKUs with digits or dots, store codes are kept only when purely alphabetic)."""
    parts = [p if _KEEP_SEGMENT.match(p) else "{id}" for p in path.split("?", 1)[0].split("/") if p]
    return "/" + "/".join(parts)


@dataclass(frozen=True)
class CallKey:
    system: str
    method: str
    route: str
    status: str
    """The HTTP status code, or the transport error's class name when no answer came."""


class ApiCallStats:
    """Thread-safe counters; one instance per process (:data:`API_CALLS`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[CallKey] = Counter()

    def record(self, system: str, method: str, path: str, status: int | str) -> None:
        key = CallKey(system, method.upper(), normalize_route(path), str(status))
        with self._lock:
            self._calls[key] += 1

    def snapshot(self) -> list[dict[str, str | int]]:
        """Rows of ``{system, method, route, status, count}`` (JSON-ready, for the heartbeat)."""
        with self._lock:
            items = list(self._calls.items())
        return [
            {"system": k.system, "method": k.method, "route": k.route, "status": k.status, "count": n}
            for k, n in sorted(items, key=lambda kv: (kv[0].system, kv[0].route, kv[0].method, kv[0].status))
        ]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


API_CALLS = ApiCallStats()
