"""Locate, load and cache the official OpenAPI specs the contract tests validate against.

The specs live next to the repository (``../shared/reference``) and are never copied into it; a user's own clone
usually lacks them, so callers get a :class:`SpecUnavailableError` with a reason they can skip (or, on CI, fail) with.
Parsing the 1 MB Magento YAML takes about half a second even with the C loader, so the parsed documents are pickled
into the temp directory, keyed by file size and mtime, and kept in memory for the rest of the process.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml  # type: ignore[import-untyped, unused-ignore]

System = Literal["plenty", "magento"]
SYSTEMS: tuple[System, ...] = ("plenty", "magento")

REFERENCE_DIR_ENV = "PLENTYSYNC_REFERENCE_DIR"
SPEC_FILES: dict[System, str] = {
    "plenty": "plentyone-openapi-3.0.1.min.json",
    "magento": "magento-admin-openapi-2.4.8.yaml",
}
_REPO_ROOT = Path(__file__).resolve().parents[2]
_CACHE_FORMAT = 1


class SpecUnavailableError(Exception):
    """The reference spec is not on this machine; ``str(error)`` says where it was looked for."""


def reference_dir() -> Path:
    override = os.environ.get(REFERENCE_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return (_REPO_ROOT.parent / "shared" / "reference").resolve()


def spec_path(system: System) -> Path:
    path = reference_dir() / SPEC_FILES[system]
    if not path.is_file():
        raise SpecUnavailableError(
            f"official {system} OpenAPI spec not found at {path}: the contract tests need the reference specs in "
            f"../shared/reference next to the repository (or set {REFERENCE_DIR_ENV}); they are not part of the project"
        )
    return path


def load_spec(system: System) -> dict[str, Any]:
    """The parsed spec document of ``system`` (shared, do not mutate)."""
    path = spec_path(system)
    stat = path.stat()
    return _load_cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.cache
def _load_cached(path_text: str, size: int, mtime_ns: int) -> dict[str, Any]:
    path = Path(path_text)
    version = f"py{sys.version_info.major}{sys.version_info.minor}"
    cache_file = _cache_dir() / f"{path.name}.{size}.{mtime_ns}.{version}.v{_CACHE_FORMAT}.pickle"
    try:
        with cache_file.open("rb") as handle:
            cached = pickle.load(handle)
        if isinstance(cached, dict):
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        pass
    document = _parse(path)
    _write_atomically(cache_file, pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
    return document


def _parse(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)
    else:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(text, Loader=loader)
    if not isinstance(document, dict):
        raise SpecUnavailableError(f"{path} does not hold an OpenAPI document")
    return document


def _cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "plentysync-contract-specs"


def _write_atomically(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp_name, target)
    except OSError:
        return
