"""Turn OpenAPI 3.0 / Swagger 2.0 schemas into JSON Schema (draft 7) in one of two modes.

``request`` mode is strict: ``required`` is enforced (in named schemas only if
``nested_required_in_requests``), objects that declare ``properties`` reject undeclared ones
(``additionalProperties: false`` semantics unless the spec says otherwise), ``enum`` is kept, ``null`` only where the
spec says ``nullable``. ``response`` mode follows the servers: nothing is required, every value may be ``null``,
unknown properties and enum values are fine, only the types of declared fields are checked.

Named schemas (``#/definitions/x``, ``#/components/schemas/x``) are converted once per mode and referenced, so
recursive schemas (category trees) stay finite. Field-level relaxations are passed in by the caller (validate.py
documents why each exists).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["request", "response"]
JSONSchema = dict[str, Any]

_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object"})
_NULL: JSONSchema = {"type": "null"}


@dataclass(frozen=True)
class FieldRelaxation:
    """In ``mode``, a property whose name fully matches the regex ``field``, inside the named schema ``owner``
    (``"*"``: any schema), may also match ``accept`` (when ``only_if_type`` is set: only if declared with that type)."""

    mode: Mode
    owner: str
    field: str
    accept: JSONSchema
    only_if_type: str | None = None


def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass
class SchemaConverter:
    """Converts the schemas of one spec document; ``definitions`` is the spec's named-schema table."""

    definitions: Mapping[str, Any]
    relaxations: tuple[FieldRelaxation, ...] = ()
    camel_aliases_in_requests: bool = False
    nested_required_in_requests: bool = True
    overrides: Mapping[tuple[Mode, str], JSONSchema] = field(default_factory=dict)
    """Replacement JSON Schemas for named schemas, per mode."""
    spec_overrides: Mapping[tuple[Mode, str], Any] = field(default_factory=dict)
    """Replacement spec (OpenAPI) schemas for named schemas, per mode; converted like the originals."""
    _converted: dict[Mode, dict[str, JSONSchema]] = field(default_factory=lambda: {"request": {}, "response": {}})
    _refs: dict[Mode, dict[str, set[str]]] = field(default_factory=lambda: {"request": {}, "response": {}})

    def document(self, schema: Any, mode: Mode, *, wrap: JSONSchema | None = None) -> JSONSchema:
        """A self-contained JSON Schema for ``schema`` (its named schemas copied into ``definitions``).

        ``wrap`` (optional) is a template whose ``"$root"`` string values are replaced by the converted schema; it
        lets callers accept documented alternatives such as a paginated envelope around the declared list."""
        refs: set[str] = set()
        root = self.convert(schema, mode, owner="*", refs=refs)
        if wrap is not None:
            root = _substitute(wrap, root)
        needed = self._closure(refs, mode)
        document = dict(root)
        if needed:
            document["definitions"] = {name: self._converted[mode][name] for name in sorted(needed)}
        return document

    def convert(self, schema: Any, mode: Mode, *, owner: str, refs: set[str]) -> JSONSchema:
        if not isinstance(schema, Mapping):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in self.definitions:
                return {}
            self._ensure_definition(name, mode)
            refs.add(name)
            target: JSONSchema = {"$ref": f"#/definitions/{name}"}
            return {"anyOf": [target, _NULL]} if mode == "response" else target
        for combinator in ("allOf", "anyOf", "oneOf"):
            if combinator in schema:
                return self._combine(schema, combinator, mode, owner=owner, refs=refs)
        return self._convert_plain(schema, mode, owner=owner, refs=refs)

    def _combine(
        self, schema: Mapping[str, Any], combinator: str, mode: Mode, *, owner: str, refs: set[str]
    ) -> JSONSchema:
        if combinator == "allOf" and mode == "request":
            # closed objects inside allOf would reject each other's properties: merge them into one object
            return self._convert_plain(self._merge_all_of(schema[combinator]), mode, owner=owner, refs=refs)
        parts = [self.convert(part, mode, owner=owner, refs=refs) for part in schema[combinator]]
        converted: JSONSchema = {"allOf" if combinator == "allOf" else "anyOf": parts}
        if mode == "response" or schema.get("nullable") or schema.get("x-nullable"):
            converted = {"anyOf": [converted, _NULL]}
        return converted

    def _merge_all_of(self, parts: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in parts:
            resolved = self.resolve(part)
            merged["properties"].update(resolved.get("properties", {}))
            merged["required"].extend(resolved.get("required", []))
        return merged

    def resolve(self, schema: Any) -> Mapping[str, Any]:
        """``schema`` with top-level ``$ref``s followed."""
        seen = 0
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 20:
            schema = self.definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return schema if isinstance(schema, Mapping) else {}

    def _convert_plain(self, schema: Mapping[str, Any], mode: Mode, *, owner: str, refs: set[str]) -> JSONSchema:
        declared = schema.get("type")
        json_type = declared if declared in _JSON_TYPES else None
        properties = schema.get("properties")
        if json_type is None and isinstance(properties, Mapping):
            json_type = "object"
        converted: JSONSchema = {}
        if json_type is not None:
            converted["type"] = json_type
        if json_type == "array" or (json_type is None and "items" in schema):
            converted["items"] = self.convert(schema.get("items", {}), mode, owner=owner, refs=refs)
        if json_type == "object":
            self._convert_object(schema, converted, mode, owner=owner, refs=refs)
        if mode == "request" and isinstance(schema.get("enum"), list):
            converted["enum"] = list(schema["enum"])
        nullable = bool(schema.get("nullable") or schema.get("x-nullable"))
        if json_type is not None and (mode == "response" or nullable):
            converted["type"] = [json_type, "null"]
            if "enum" in converted:
                converted["enum"].append(None)
        return converted

    def _convert_object(
        self, schema: Mapping[str, Any], converted: JSONSchema, mode: Mode, *, owner: str, refs: set[str]
    ) -> None:
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            converted_properties: dict[str, JSONSchema] = {}
            for name, subschema in properties.items():
                value = self.convert(subschema, mode, owner=owner, refs=refs)
                converted_properties[name] = self._relax(value, subschema, mode, owner=owner, name=name)
            if mode == "request" and self.camel_aliases_in_requests:
                for name in list(converted_properties):
                    converted_properties.setdefault(snake_to_camel(name), converted_properties[name])
            converted["properties"] = converted_properties
        if mode == "response":
            return
        required = schema.get("required")
        enforce = owner == "*" or self.nested_required_in_requests
        if enforce and isinstance(required, list) and required:
            converted["required"] = list(required)
        additional = schema.get("additionalProperties")
        if isinstance(additional, bool):
            converted["additionalProperties"] = additional
        elif isinstance(additional, Mapping):
            converted["additionalProperties"] = self.convert(additional, mode, owner=owner, refs=refs)
        elif isinstance(properties, Mapping) and properties:
            converted["additionalProperties"] = False

    def _relax(self, value: JSONSchema, original: Any, mode: Mode, *, owner: str, name: str) -> JSONSchema:
        declared = self.resolve(original).get("type") if isinstance(original, Mapping) else None
        for relaxation in self.relaxations:
            if (
                relaxation.mode != mode
                or relaxation.owner not in ("*", owner)
                or not re.fullmatch(relaxation.field, name)
            ):
                continue
            if relaxation.only_if_type is not None and declared != relaxation.only_if_type:
                continue
            value = {"anyOf": [value, relaxation.accept]}
        return value

    def _ensure_definition(self, name: str, mode: Mode) -> None:
        converted = self._converted[mode]
        if name in converted:
            return
        converted[name] = {}
        refs: set[str] = set()
        override = self.overrides.get((mode, name))
        if override is not None:
            converted[name] = dict(override)
        else:
            source = self.spec_overrides.get((mode, name), self.definitions[name])
            converted[name] = self.convert(source, mode, owner=name, refs=refs)
        self._refs[mode][name] = refs

    def _closure(self, names: set[str], mode: Mode) -> set[str]:
        seen: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            pending.extend(self._refs[mode].get(name, ()))
        return seen


def _substitute(template: Any, root: JSONSchema) -> Any:
    if template == "$root":
        return root
    if isinstance(template, dict):
        return {key: _substitute(value, root) for key, value in template.items()}
    if isinstance(template, list):
        return [_substitute(value, root) for value in template]
    return template


NUMERIC_STRING: JSONSchema = {"type": "string", "pattern": r"^-?\d+$"}
DECIMAL_STRING: JSONSchema = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
