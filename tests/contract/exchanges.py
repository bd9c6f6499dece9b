"""Serve a sandbox over real HTTP with every exchange recorded, so client tours can be fed to the validator."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from plentysync.sandbox.recorder import Recorder, RecordingMiddleware
from plentysync.sandbox.server import serving
from tests.contract.specs import System

SANDBOX_FACTORIES: dict[System, tuple[str, str]] = {
    "plenty": ("plentysync.sandbox.plenty", "create_plenty_app"),
    "magento": ("plentysync.sandbox.magento", "create_magento_app"),
}


def sandbox_factory(system: System) -> Any:
    """``create_plenty_app`` / ``create_magento_app``; skips the calling test while the package is missing."""
    module_name, factory_name = SANDBOX_FACTORIES[system]
    module = pytest.importorskip(module_name, reason=f"the {system} sandbox ({module_name}) is not importable yet")
    factory = getattr(module, factory_name, None)
    if factory is None:
        pytest.skip(f"{module_name} has no {factory_name} yet")
    return factory


@contextmanager
def recorded_sandbox(system: System, **app_options: Any) -> Iterator[tuple[str, Recorder, Any]]:
    """Yield ``(base_url, recorder, state)`` for a freshly built sandbox of ``system`` served on loopback.

    ``app_options`` go to the factory (``state=``, ``config=``, ``clock=``); ``state`` is ``app.state.sandbox``."""
    app = sandbox_factory(system)(**app_options)
    recorder = Recorder()
    with serving(RecordingMiddleware(app, recorder, system=system)) as running:
        yield running.url, recorder, app.state.sandbox


def import_sandbox(system: System) -> Any:
    """The sandbox package of ``system`` if it imports, else None (for callers that must not skip)."""
    try:
        return importlib.import_module(SANDBOX_FACTORIES[system][0])
    except ImportError:
        return None
