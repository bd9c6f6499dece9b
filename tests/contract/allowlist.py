"""The single allow-list of routes the official specs lack but the real servers serve (``allowlist.toml``).

Entries use the spec's path style (PlentyONE ``/rest/...``, Magento ``/V1/...`` without the ``/rest[/<store>]``
prefix) with ``{param}`` matching one segment. Every entry must say why it exists, and every entry must still be
used: :meth:`AllowList.stale` lists those no validated exchange or sandbox route needed.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.contract.routing import normalise_path

ALLOWLIST_FILE = Path(__file__).with_name("allowlist.toml")


@dataclass(frozen=True)
class AllowEntry:
    system: str
    method: str
    path: str
    reason: str
    regex: re.Pattern[str] = field(repr=False, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.system} {self.method} {self.path}"


def _compile(path: str) -> re.Pattern[str]:
    pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}/]+\})", path))
    return re.compile(f"^{pattern}$")


class AllowList:
    def __init__(self, entries: Iterable[AllowEntry]) -> None:
        self.entries = tuple(entries)
        self._used: set[AllowEntry] = set()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path = ALLOWLIST_FILE) -> AllowList:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
        entries = []
        for number, raw in enumerate(document.get("route", []), start=1):
            missing = [key for key in ("system", "method", "path", "reason") if not str(raw.get(key, "")).strip()]
            if missing:
                raise ValueError(f"{path}: route #{number} lacks {', '.join(missing)}")
            route_path = normalise_path(str(raw["path"]))
            entries.append(
                AllowEntry(
                    system=str(raw["system"]).lower(),
                    method=str(raw["method"]).upper(),
                    path=route_path,
                    reason=str(raw["reason"]).strip(),
                    regex=_compile(route_path),
                )
            )
        return cls(entries)

    def find(self, system: str, method: str, path: str) -> AllowEntry | None:
        """The entry covering a concrete (spec-namespace) path, marking it used."""
        for entry in self.entries:
            if entry.system == system and entry.method in (method, "*") and entry.regex.match(path):
                with self._lock:
                    self._used.add(entry)
                return entry
        return None

    def stale(self, systems: Iterable[str] | None = None) -> list[AllowEntry]:
        """Entries of ``systems`` (default: all) that nothing has needed so far."""
        wanted = None if systems is None else set(systems)
        with self._lock:
            used = set(self._used)
        return [e for e in self.entries if e not in used and (wanted is None or e.system in wanted)]
