"""Both sandboxes assembled: seeded from one catalog (or their saved state), each wrapped in fault
injection and, when asked, request recording. ``plentysync sandbox run``, tests and benchmarks build
their servers here so every caller gets the same wiring."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from plentysync.clock import Clock
from plentysync.sandbox.catalog import SeedCatalog, generate
from plentysync.sandbox.faults import ASGIApp, FaultInjector, FaultMiddleware, FaultRule, System
from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
from plentysync.sandbox.plenty import PlentySandboxConfig, PlentyState, create_plenty_app
from plentysync.sandbox.recorder import Recorder, RecordingMiddleware

PLENTY_STATE_FILE = "plenty.json"
MAGENTO_STATE_FILE = "magento.json"
STATE_FILES = (PLENTY_STATE_FILE, MAGENTO_STATE_FILE)


@dataclass
class SandboxPair:
    """Both systems, ready to serve. ``plenty_app``/``magento_app`` are the wrapped ASGI apps."""

    plenty_state: PlentyState
    magento_state: MagentoState
    plenty_app: ASGIApp
    magento_app: ASGIApp
    plenty_faults: FaultInjector
    magento_faults: FaultInjector
    recorder: Recorder | None
    plenty_config: PlentySandboxConfig
    magento_config: MagentoSandboxConfig
    catalog: SeedCatalog | None
    """The catalog the states were seeded from; ``None`` when both came from saved state files."""

    def faults(self, system: System) -> FaultInjector:
        return self.plenty_faults if system == "plenty" else self.magento_faults


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic (temp file + rename), like the sandboxes' own saves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _wrap(
    app: ASGIApp, *, system: System, state: PlentyState | MagentoState, faults: FaultInjector, recorder: Recorder | None
) -> ASGIApp:
    wrapped: ASGIApp = FaultMiddleware(app, faults, system=system, tokens=state)
    if recorder is not None:
        wrapped = RecordingMiddleware(wrapped, recorder, system=system)
    return wrapped


def build_sandbox(
    *,
    size: int = 1,
    seed: int = 7,
    state_dir: Path | None = None,
    record: bool = False,
    plenty_config: PlentySandboxConfig | None = None,
    magento_config: MagentoSandboxConfig | None = None,
    faults: Iterable[FaultRule] = (),
    clock: Clock | None = None,
) -> SandboxPair:
    """Build both sandboxes.

    With ``state_dir`` each system keeps its state in ``plenty.json`` / ``magento.json`` there: an
    existing file is loaded instead of the catalog (so the data survives restarts), a missing one is
    seeded and written at once. ``faults`` go to both systems; each rule is copied so the two count
    their hits separately."""
    plenty_config = plenty_config or PlentySandboxConfig()
    magento_config = magento_config or MagentoSandboxConfig()
    if state_dir is not None:
        plenty_config = replace(plenty_config, state_file=state_dir / PLENTY_STATE_FILE)
        magento_config = replace(magento_config, state_file=state_dir / MAGENTO_STATE_FILE)

    catalog: SeedCatalog | None = None

    def seed_catalog() -> SeedCatalog:
        nonlocal catalog
        if catalog is None:
            catalog = generate(size=size, seed=seed, now=clock.now() if clock else None)
        return catalog

    plenty_file, magento_file = plenty_config.state_file, magento_config.state_file
    if plenty_file is not None and plenty_file.exists():
        plenty_state = PlentyState.from_dict(_read_json(plenty_file))
    else:
        plenty_state = PlentyState.minimal(plenty_config.plenty_id)
        plenty_state.load_catalog(seed_catalog())
        if plenty_file is not None:
            _write_json(plenty_file, plenty_state.to_dict())
    if magento_file is not None and magento_file.exists():
        magento_state = MagentoState.from_dict(_read_json(magento_file))
    else:
        magento_state = MagentoState()
        magento_state.load_catalog(seed_catalog())
        if magento_file is not None:
            _write_json(magento_file, magento_state.to_dict())

    rules = list(faults)
    plenty_faults = FaultInjector([replace(rule) for rule in rules])
    magento_faults = FaultInjector([replace(rule) for rule in rules])
    recorder = Recorder() if record else None
    plenty_raw = create_plenty_app(plenty_state, plenty_config, clock)
    magento_raw = create_magento_app(magento_state, magento_config, clock)
    # the apps own their state from here on (and may have loaded it from the state file themselves)
    plenty_state = plenty_raw.state.sandbox
    magento_state = magento_raw.state.sandbox
    plenty_app = _wrap(plenty_raw, system="plenty", state=plenty_state, faults=plenty_faults, recorder=recorder)
    magento_app = _wrap(magento_raw, system="magento", state=magento_state, faults=magento_faults, recorder=recorder)
    return SandboxPair(
        plenty_state=plenty_state,
        magento_state=magento_state,
        plenty_app=plenty_app,
        magento_app=magento_app,
        plenty_faults=plenty_faults,
        magento_faults=magento_faults,
        recorder=recorder,
        plenty_config=plenty_config,
        magento_config=magento_config,
        catalog=catalog,
    )
