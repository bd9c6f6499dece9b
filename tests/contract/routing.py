"""Map a concrete request (method + path as the server saw it) to the spec operation that describes it.

Spec templates become regexes: a path parameter matches one segment, Laravel-style optional parameters
(``{typeId?}``, PlentyONE) may be absent. When several templates match, the most specific wins: path parameters
that fit their declared type beat those that do not, then more literal segments beat fewer
(``/rest/items/variations`` over ``/rest/items/{itemId}``). Magento URLs carry a prefix the spec's basePath hides
(``/rest/V1``, ``/rest/<store>/V1``, ``/rest/all/V1``, ``/rest/<store>/async[/bulk]/V1``, optionally after
``/index.php``); it is stripped before matching. SKUs may contain ``%2F``-encoded slashes: on a raw path they stay
inside one segment; on an already decoded path a second, looser pass lets SKU parameters span segments.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.contract.specs import System

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM = re.compile(r"\{([^}/]+)\}")
_MAGENTO_PREFIX = re.compile(
    r"^(?:/index\.php)?/rest(?:/(?!(?:async|V1)(?:/|$))(?P<store>[A-Za-z0-9_]+))?"
    r"(?P<mode>/async(?:/bulk)?)?(?P<rest>/V1(?:/.*)?)$"
)
_TYPE_PATTERNS = {"integer": re.compile(r"^-?\d+$"), "number": re.compile(r"^-?\d+(\.\d+)?$")}
_SKU_PARAM = re.compile(r"sku", re.IGNORECASE)


@dataclass(frozen=True)
class Operation:
    system: System
    method: str
    template: str
    spec: Mapping[str, Any] = field(repr=False, compare=False, hash=False)
    param_names: tuple[str, ...] = field(repr=False, compare=False, hash=False)
    path_param_types: Mapping[str, str | None] = field(repr=False, compare=False, hash=False)
    regex: re.Pattern[str] = field(repr=False, compare=False, hash=False)
    loose_regex: re.Pattern[str] | None = field(repr=False, compare=False, hash=False)
    segment_counts: frozenset[int] = field(repr=False, compare=False, hash=False)
    literal_segments: int = field(repr=False, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class SpecPath:
    """A concrete path reduced to the spec's namespace (Magento: without ``/rest[/<store>]`` and async parts)."""

    path: str
    store: str | None = None
    mode: str = ""

    @property
    def is_bulk(self) -> bool:
        return self.mode == "/async/bulk"

    @property
    def is_async(self) -> bool:
        return bool(self.mode)


@dataclass(frozen=True)
class Match:
    operation: Operation
    params: Mapping[str, str]
    type_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """``match`` is set when an operation fits; ``methods`` lists what the spec declares for the path otherwise."""

    match: Match | None
    methods: tuple[str, ...] = ()


def segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def normalise_path(path: str) -> str:
    return "/" + "/".join(segments(path))


def _param_type(parameter: Mapping[str, Any]) -> str | None:
    schema = parameter.get("schema", parameter)
    value = schema.get("type") if isinstance(schema, Mapping) else None
    return value if isinstance(value, str) else None


def _compile(template: str, *, loose_skus: bool) -> tuple[re.Pattern[str], frozenset[int]]:
    pattern = ""
    required = 0
    optional = 0
    group_index = 0
    for segment in segments(template):
        optional_param = re.fullmatch(r"\{([^}/]+)\?\}", segment)
        if optional_param:
            pattern += rf"(?:/(?P<p{group_index}>[^/]+))?"
            group_index += 1
            optional += 1
            continue
        required += 1
        piece = ""
        last = 0
        for found in _PARAM.finditer(segment):
            piece += re.escape(segment[last : found.start()])
            spans = loose_skus and _SKU_PARAM.search(found.group(1)) is not None
            piece += rf"(?P<p{group_index}>{'.+?' if spans else '[^/]+'})"
            group_index += 1
            last = found.end()
        pattern += "/" + piece + re.escape(segment[last:])
    counts = frozenset(range(required, required + optional + 1))
    return re.compile(f"^{pattern or '/'}$"), counts


def _param_names(template: str) -> list[str]:
    return [name.rstrip("?") for name in _PARAM.findall(template)]


class RouteTable:
    """All operations of one spec, indexed by method and segment count."""

    def __init__(self, system: System, spec: Mapping[str, Any]) -> None:
        self.system = system
        self.operations: list[Operation] = []
        self._index: dict[tuple[str, int], list[Operation]] = defaultdict(list)
        self._by_path_count: dict[int, list[Operation]] = defaultdict(list)
        self._loose: list[Operation] = []
        for template, item in spec.get("paths", {}).items():
            if not isinstance(item, Mapping):
                continue
            shared = [p for p in item.get("parameters", []) if isinstance(p, Mapping)]
            for method in HTTP_METHODS:
                operation_spec = item.get(method)
                if isinstance(operation_spec, Mapping):
                    self._add(template, method.upper(), operation_spec, shared)
        self.resolve = functools.lru_cache(maxsize=16384)(self._resolve)

    def _add(self, template: str, method: str, spec: Mapping[str, Any], shared: list[Mapping[str, Any]]) -> None:
        parameters = [*shared, *(p for p in spec.get("parameters", []) if isinstance(p, Mapping))]
        types = {str(p.get("name")): _param_type(p) for p in parameters if p.get("in") == "path"}
        regex, counts = _compile(template, loose_skus=False)
        names = _param_names(template)
        loose = None
        if self.system == "magento" and any(_SKU_PARAM.search(name) for name in names):
            loose = _compile(template, loose_skus=True)[0]
        operation = Operation(
            system=self.system,
            method=method,
            template=template,
            spec=spec,
            param_names=tuple(names),
            path_param_types={name: types.get(name) for name in names},
            regex=regex,
            loose_regex=loose,
            segment_counts=counts,
            literal_segments=sum(1 for s in segments(template) if "{" not in s),
        )
        self.operations.append(operation)
        for count in counts:
            self._index[(method, count)].append(operation)
            self._by_path_count[count].append(operation)
        if loose is not None:
            self._loose.append(operation)

    def spec_path(self, path: str) -> SpecPath | None:
        """``path`` in the spec's namespace, or None when it cannot belong to this API at all."""
        if self.system == "plenty":
            return SpecPath(normalise_path(path))
        found = _MAGENTO_PREFIX.match(path)
        if found is None:
            return None
        return SpecPath(normalise_path(found["rest"]), found["store"], found["mode"] or "")

    def _resolve(self, method: str, path: str) -> Resolution:
        count = len(segments(path))
        best = self._best(method, path, self._index.get((method, count), []), loose=False)
        if best is None and self._loose:
            best = self._best(method, path, [op for op in self._loose if op.method == method], loose=True)
        if best is not None:
            return Resolution(best)
        declared = sorted(
            {op.method for op in self._by_path_count.get(count, []) if op.regex.match(path)}
            | {op.method for op in self._loose if op.loose_regex is not None and op.loose_regex.match(path)}
        )
        return Resolution(None, tuple(declared))

    def _best(self, method: str, path: str, candidates: list[Operation], *, loose: bool) -> Match | None:
        ranked: list[tuple[tuple[int, int, int], Match]] = []
        for operation in candidates:
            regex = operation.loose_regex if loose else operation.regex
            found = regex.match(path) if regex is not None else None
            if found is None:
                continue
            params = self._params(operation, found)
            problems = tuple(self._type_problems(operation, params))
            ranked.append(((not problems, operation.literal_segments, len(params)), Match(operation, params, problems)))
        if not ranked:
            return None
        return max(ranked, key=lambda entry: entry[0])[1]

    @staticmethod
    def _params(operation: Operation, found: re.Match[str]) -> dict[str, str]:
        names = operation.param_names
        values = [found.group(f"p{index}") for index in range(len(names))]
        return {name: unquote(value) for name, value in zip(names, values, strict=True) if value is not None}

    @staticmethod
    def _type_problems(operation: Operation, params: Mapping[str, str]) -> Iterator[str]:
        for name, value in params.items():
            pattern = _TYPE_PATTERNS.get(operation.path_param_types.get(name) or "")
            if pattern is not None and not pattern.match(value):
                yield f"path parameter {name}={value!r} is not {operation.path_param_types[name]}"
