"""Validate recorded HTTP exchanges against the official PlentyONE and Magento OpenAPI specs.

Rules (see the brief of tests/contract):

1. Route: the request's method and path must match a spec operation (routing.py) or an allow-list entry.
2. Query: every parameter name must be declared by the operation (``with[]`` = ``with``, ``name[]``/``name[0]`` =
   ``name``; Magento bracket names are compared with numeric indexes wildcarded and snake_case turned to camelCase,
   because the spec writes ``searchCriteria[filterGroups][0][filters][0][conditionType]`` while the server also
   accepts ``searchCriteria[filter_groups][3][filters][1][condition_type]``).
3. Request body: strict (notes: requests carry only fields the spec declares): required fields, no undeclared
   properties, declared types.
4. Response body: lenient (notes PlentyONE §15a, Magento §14a: follow the servers): 2xx bodies against the declared
   200 schema with everything optional and nullable and unknown properties allowed; 4xx/5xx against the documented
   error envelopes.

Every place where the validator accepts something the spec does not declare is listed below with its source.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped, unused-ignore]

from plentysync.sandbox.recorder import Exchange
from tests.contract.allowlist import AllowList
from tests.contract.routing import Operation, RouteTable, SpecPath
from tests.contract.schemas import (
    DECIMAL_STRING,
    NUMERIC_STRING,
    FieldRelaxation,
    JSONSchema,
    Mode,
    SchemaConverter,
    snake_to_camel,
)
from tests.contract.specs import SYSTEMS, System, load_spec

SYSTEM_ALIASES: dict[str, System] = {"plenty": "plenty", "plentyone": "plenty", "magento": "magento"}

# --- documented relaxations ------------------------------------------------------------------------------------------

GLOBAL_QUERY_PARAMETERS: dict[System, dict[str, str]] = {
    "plenty": {},
    "magento": {
        # Magento notes §3.3: `fields=` partial responses work on every GET/POST/PUT route; the spec never declares it.
        "fields": "global partial-response parameter (magento notes §3.3)",
    },
}

_VARIATION_UNIT: JSONSchema = {
    "type": "object",
    "properties": {"unitId": {"type": "integer"}, "content": {"type": "number"}},
    "additionalProperties": False,
}
_PAGINATION_FIELDS = "page|totalsCount|lastPageNumber|firstOnPage|lastOnPage|itemsPerPage"

FIELD_RELAXATIONS: dict[System, tuple[FieldRelaxation, ...]] = {
    "plenty": (
        # PlentyONE notes §1 and §15a: paginated envelopes carry numbers as strings ("itemsPerPage": "100").
        FieldRelaxation("response", "*", _PAGINATION_FIELDS, NUMERIC_STRING, only_if_type="integer"),
        # PlentyONE notes §1: order status and referrer ids are decimals that /rest/orders/statuses and
        # /rest/orders/referrers also return as strings ("5.7", "2.08").
        FieldRelaxation("response", "*", "statusId|referrerId", DECIMAL_STRING, only_if_type="number"),
        FieldRelaxation("response", "OrderReferrer", "id", DECIMAL_STRING, only_if_type="number"),
        # PlentyONE notes §6.4 (DOC item-data.adoc): variation bodies send "unit": {"unitId": 1, "content": 1},
        # the spec declares an array.
        FieldRelaxation("request", "*", "unit", _VARIATION_UNIT, only_if_type="array"),
        # The spec's own example of variation categories shows "isNeckermannPrimary": true, and so does the recorded
        # real variation in notes §6.3; the schema says string.
        FieldRelaxation("response", "VariationCategory", "isNeckermannPrimary", {"type": "boolean"}),
        # PlentyONE notes §9.5: shipping profiles list "supportedMultishop": ["-1"], "supportedReferrer": ["-1"].
        FieldRelaxation("response", "*", "supportedReferrer|supportedMultishop", {"type": "array"}),
    ),
    "magento": (
        # Magento notes §14a and §4.2: custom_attributes[].value is an array of option ids for multiselects and
        # category_ids (["15"], []), where the spec says string.
        FieldRelaxation("response", "framework-attribute-interface", "value", {"type": "array"}),
        # Magento notes §14 #20: response ids may come back as "3" instead of 3.
        FieldRelaxation("response", "*", "id|.*_id", NUMERIC_STRING, only_if_type="integer"),
    ),
}

SCHEMA_OVERRIDES: dict[System, dict[tuple[Mode, str], JSONSchema]] = {
    "plenty": {
        # The spec types Laravel collections as {"type": "object"}; they serialise as JSON arrays (notes §5.1:
        # /rest/stockmanagement/warehouses is a plain array, its spec response is a Collection).
        ("response", "Collection"): {"type": ["array", "object", "null"]},
    },
    "magento": {},
}

_PAGINATED_ENVELOPE: JSONSchema = {
    "type": "object",
    "properties": {
        "page": {"type": ["integer", "string"]},
        "totalsCount": {"type": ["integer", "string"]},
        "isLastPage": {"type": ["boolean", "null"]},
        "lastPageNumber": {"type": ["integer", "string"]},
        "firstOnPage": {"type": ["integer", "string"]},
        "lastOnPage": {"type": ["integer", "string"]},
        "itemsPerPage": {"type": ["integer", "string"]},
        "entries": "$root",
    },
    "required": ["entries"],
}

# (system, METHOD, spec template) -> template around the converted declared 200 schema ("$root").
RESPONSE_ALTERNATIVES: dict[tuple[System, str, str], Any] = {
    # PlentyONE notes §15a: these answer with the paginated envelope where the spec declares a plain array.
    ("plenty", "GET", "/rest/properties"): {"anyOf": ["$root", _PAGINATED_ENVELOPE]},
    ("plenty", "GET", "/rest/properties/selections"): {"anyOf": ["$root", _PAGINATED_ENVELOPE]},
    # The spec declares one VariationCategory for the list of a variation's categories; a variation has several
    # and notes §6.3 show them as a list (`variationCategories: [...]`), so the sandbox answers a list of them.
    ("plenty", "GET", "/rest/items/{id}/variations/{variationId}/variation_categories"): {
        "anyOf": ["$root", {"type": "array", "items": "$root"}]
    },
    # PlentyONE notes §5.1: contact classes are an object map {"1": "Standard-Endkunde"} (spec: array).
    ("plenty", "GET", "/rest/accounts/contacts/classes"): {
        "anyOf": ["$root", {"type": "object", "additionalProperties": {"type": "string"}}]
    },
    # Magento notes §14a and §1.2: new invoice/shipment/credit-memo/stock-item/media ids come back as JSON strings.
    ("magento", "POST", "/V1/order/{orderId}/invoice"): {"anyOf": ["$root", NUMERIC_STRING]},
    ("magento", "POST", "/V1/order/{orderId}/ship"): {"anyOf": ["$root", NUMERIC_STRING]},
    ("magento", "POST", "/V1/order/{orderId}/refund"): {"anyOf": ["$root", NUMERIC_STRING]},
    ("magento", "POST", "/V1/invoice/{invoiceId}/refund"): {"anyOf": ["$root", NUMERIC_STRING]},
    ("magento", "PUT", "/V1/products/{productSku}/stockItems/{itemId}"): {"anyOf": ["$root", NUMERIC_STRING]},
    ("magento", "POST", "/V1/products/{sku}/media"): {"anyOf": ["$root", NUMERIC_STRING]},
}

# PlentyONE notes §7: POST /rest/categories takes an ARRAY of the category objects the spec declares as the body.
REQUEST_BODY_AS_ARRAY: frozenset[tuple[System, str, str]] = frozenset({("plenty", "POST", "/rest/categories")})

# Integer fields that servers accept as numeric strings in requests: none, because the notes document none.

_PAYMENT_PROPERTIES = {
    "type": "array",
    "items": {"type": "object", "properties": {"typeId": {"type": "integer"}, "value": {"type": "string"}}},
}

# (system, METHOD, template) -> (named schemas whose properties the body may carry too, extra spec properties).
# The PlentyONE spec's request schemas of these routes are stubs; the notes show the documented real bodies.
REQUEST_EXTRA_PROPERTIES: dict[tuple[System, str, str], tuple[tuple[str, ...], dict[str, Any]]] = {
    # notes §11.1 (DOC contact-data.adoc): firstName, lastName, gender, lang, classId, number, externalId, ...
    ("plenty", "POST", "/rest/accounts/contacts"): (("Contact",), {}),
    ("plenty", "PUT", "/rest/accounts/contacts/{contactId}"): (("Contact",), {}),
    # notes §9.2 (DOC order-data.adoc, SWC): referrerId (and the other order fields) at the top level
    ("plenty", "POST", "/rest/orders"): (("Order",), {}),
    # notes §10 (SWC, LUJ): isSystemCurrency, receivedAt and payment properties [{typeId, value}]
    ("plenty", "POST", "/rest/payments"): (("Payment",), {"properties": _PAYMENT_PROPERTIES}),
}

# Query parameters a route accepts although its spec operation does not declare them.
ROUTE_QUERY_PARAMETERS: dict[tuple[System, str, str], frozenset[str]] = {
    # notes §2.1: login credentials may come in the query string (IBP, PY2, old DOC)
    ("plenty", "POST", "/rest/login"): frozenset({"username", "password"}),
    # notes §2.2: the refresh token may come as ?refresh_token= (LUJ)
    ("plenty", "POST", "/rest/login/refresh"): frozenset({"refresh_token"}),
    # notes §15a: these answer with the paginated envelope (see RESPONSE_ALTERNATIVES), so they page like one
    ("plenty", "GET", "/rest/properties"): frozenset({"page", "itemsPerPage"}),
    ("plenty", "GET", "/rest/properties/selections"): frozenset({"page", "itemsPerPage"}),
}

# Path parameters whose declared type the real server does not hold to.
PATH_PARAMETER_RELAXATIONS: dict[tuple[System, str, str], frozenset[str]] = {
    # notes §10: GET /rest/payments/property/1/{transactionId}: transaction ids are strings ("TX-123")
    ("plenty", "GET", "/rest/payments/property/{propertyTypeId}/{propertyValue}"): frozenset({"propertyValue"}),
    # notes §12.2: languages are codes ("de", "en"); the spec types {lang} as integer, its own examples use "vn".
    ("plenty", "GET", "/rest/items/{id}/variations/{variationId}/descriptions/{lang}"): frozenset({"lang"}),
    ("plenty", "PUT", "/rest/items/{id}/variations/{variationId}/descriptions/{lang}"): frozenset({"lang"}),
    ("plenty", "DELETE", "/rest/items/{id}/variations/{variationId}/descriptions/{lang}"): frozenset({"lang"}),
}


def _spec_overrides(system: System, spec: Mapping[str, Any]) -> dict[tuple[Mode, str], Any]:
    if system != "plenty":
        return {}
    # notes §6.4 (DOC item-data.adoc): POST /rest/items takes full variations (variationCategories, unit, number...);
    # the spec's `Variation` component is a two-field search stub, the full shape is the create-variation body.
    variation_body = (
        spec.get("paths", {}).get("/rest/items/{itemId}/variations", {}).get("post", {}).get("requestBody", {})
    )
    schema = _pick_content(variation_body.get("content", {}))
    return {("request", "Variation"): schema} if schema is not None else {}


ERROR_ENVELOPES: dict[System, JSONSchema] = {
    # PlentyONE notes §4, §2.1, §2.3: {"error": {...}} (+ validation_errors) or {"error": "...", "message": ...}.
    "plenty": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {"message": {"type": "string"}, "code": {"type": ["integer", "string"]}},
                    },
                ]
            },
            "message": {"type": "string"},
            "validation_errors": {"type": ["object", "array"]},
        },
    },
    # Magento notes §1.3 and SPEC error-response: message required; parameters a dict or a list.
    "magento": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string"},
            "parameters": {"type": ["object", "array"]},
            "errors": {"type": "array"},
            "code": {"type": "integer"},
            "trace": {"type": "string"},
        },
    },
}

# Magento notes §11: async and bulk endpoints answer 202 with this body instead of the operation's result.
ASYNC_RESPONSE: JSONSchema = {
    "type": "object",
    "required": ["bulk_uuid", "request_items"],
    "properties": {
        "bulk_uuid": {"type": "string"},
        "request_items": {"type": "array", "items": {"type": "object"}},
        "errors": {"type": "boolean"},
    },
}

# --- query names ---------------------------------------------------------------------------------------------------

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def normalise_query_name(name: str, system: System) -> str:
    """``with[]`` -> ``with``; Magento: ``a[filter_groups][3][b]`` -> ``a[filterGroups][N][b]``."""
    base, _, rest = name.partition("[")
    parts = _BRACKETS.findall("[" + rest) if rest else []
    parts = ["N" if part.isdigit() else part for part in parts]
    while parts and parts[-1] in ("", "N"):
        parts.pop()
    if system == "magento":
        base = snake_to_camel(base)
        parts = [snake_to_camel(part) for part in parts]
    return base + "".join(f"[{part}]" for part in parts)


@dataclass(frozen=True)
class _QueryRules:
    names: frozenset[str]
    parents: frozenset[str]


# --- results -------------------------------------------------------------------------------------------------------


@dataclass
class ValidationReport:
    """Problems of many exchanges grouped by route, each problem with how often it occurred and one example."""

    checked: int = 0
    problems: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, route: str, problem: str, example: str) -> None:
        examples = self.problems[route].setdefault(problem, [])
        examples.append(example)

    def __str__(self) -> str:
        if self.ok:
            return f"{self.checked} exchanges conform to the specs"
        failing = sum(len(problems) for problems in self.problems.values())
        lines = [f"{failing} distinct problems on {len(self.problems)} routes ({self.checked} exchanges checked):"]
        for route in sorted(self.problems):
            lines.append(f"  {route}")
            for problem, examples in sorted(self.problems[route].items()):
                lines.append(f"    - {problem}  [{len(examples)}x, e.g. {examples[0]}]")
        return "\n".join(lines)


# --- the validator -------------------------------------------------------------------------------------------------


class ContractValidator:
    """Validates exchanges of both systems; thread-safe; caches compiled validators per operation."""

    def __init__(self, specs: Mapping[System, Mapping[str, Any]], allowlist: AllowList) -> None:
        self.allowlist = allowlist
        self.tables = {system: RouteTable(system, spec) for system, spec in specs.items()}
        self._converters = {
            system: SchemaConverter(
                _named_schemas(spec),
                FIELD_RELAXATIONS[system],
                # Magento notes §1.2: the server accepts camelCase field names on input as well.
                camel_aliases_in_requests=system == "magento",
                # Magento notes §17: the spec's "required" markers of named schemas describe response getters and are
                # not enforced on input (a product needs only sku, a stock item nothing); only the required method
                # parameters at the top of the body (product, stockItem, entity ...) are.
                nested_required_in_requests=system != "magento",
                overrides=SCHEMA_OVERRIDES[system],
                spec_overrides=_spec_overrides(system, spec),
            )
            for system, spec in specs.items()
        }
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator | None] = {}
        self._queries: dict[str, _QueryRules] = {}
        self._lock = threading.RLock()

    # public API

    def validate_exchange(self, exchange: Exchange) -> list[str]:
        return self._check(exchange)[1]

    def route_label(self, exchange: Exchange) -> str:
        return self._check(exchange)[0]

    def validate_exchanges(self, exchanges: Iterable[Exchange]) -> ValidationReport:
        report = ValidationReport()
        for exchange in exchanges:
            report.checked += 1
            route, problems = self._check(exchange)
            for problem in problems:
                report.add(route, problem, f"{exchange.method} {exchange.path} -> {exchange.status}")
        return report

    def assert_valid(self, exchanges: Iterable[Exchange]) -> ValidationReport:
        report = self.validate_exchanges(exchanges)
        assert report.ok, str(report)
        return report

    def covers(self, system: str, method: str, path: str) -> str | None:
        """Which spec operation or allow-list entry covers a concrete path (None: neither)."""
        target = SYSTEM_ALIASES.get(system.lower())
        table = self.tables.get(target) if target else None
        if target is None or table is None:
            return None
        spec_path = table.spec_path(path)
        if spec_path is not None:
            match = table.resolve(method.upper(), spec_path.path).match
            if match is not None and not match.type_problems:
                return match.operation.key
        entry = self.allowlist.find(target, method.upper(), spec_path.path if spec_path else path)
        return f"allow-list: {entry.key}" if entry else None

    # the checks

    def _check(self, exchange: Exchange) -> tuple[str, list[str]]:
        system = SYSTEM_ALIASES.get(exchange.system.lower())
        table = self.tables.get(system) if system else None
        if system is None or table is None:
            return f"{exchange.system} ?", [f"no spec loaded for system {exchange.system!r}"]
        method = exchange.method.upper()
        spec_path = table.spec_path(exchange.path)
        problems: list[str] = []
        if exchange.status == 0:
            problems.append("no response was sent")
        match = table.resolve(method, spec_path.path).match if spec_path else None
        if match is None:
            lookup = spec_path.path if spec_path else exchange.path
            entry = self.allowlist.find(system, method, lookup)
            if entry is None:
                label = f"{system} {method} {lookup} (not in spec)"
                declared = table.resolve(method, spec_path.path).methods if spec_path else ()
                hint = f"; the spec declares {', '.join(declared)} for this path" if declared else ""
                return label, [*problems, f"route not in spec{hint}"]
            problems += self._check_response(system, None, exchange, spec_path)
            return f"{system} {entry.method} {entry.path} (allow-listed)", problems
        operation = match.operation
        relaxed = PATH_PARAMETER_RELAXATIONS.get((system, operation.method, operation.template), frozenset())
        problems += [problem for problem in match.type_problems if problem.split("=")[0].split()[-1] not in relaxed]
        problems += self._check_query(system, operation, exchange)
        problems += self._check_request_body(system, operation, exchange, spec_path)
        problems += self._check_response(system, operation, exchange, spec_path)
        return f"{system} {operation.key}", problems

    def _check_query(self, system: System, operation: Operation, exchange: Exchange) -> list[str]:
        rules = self._query_rules(system, operation)
        extra = ROUTE_QUERY_PARAMETERS.get((system, operation.method, operation.template), frozenset())
        problems = []
        for name, _value in exchange.query:
            if name in GLOBAL_QUERY_PARAMETERS[system] or name in extra:
                continue
            normalised = normalise_query_name(name, system)
            if normalised not in rules.names and normalised not in rules.parents:
                problems.append(f"query parameter {name!r} is not declared")
        return sorted(set(problems))

    def _query_rules(self, system: System, operation: Operation) -> _QueryRules:
        key = f"{system} {operation.key}"
        with self._lock:
            rules = self._queries.get(key)
            if rules is None:
                declared = [str(p.get("name")) for p in operation.spec.get("parameters", []) if p.get("in") == "query"]
                if system == "plenty" and _answers_paginated(operation.spec):
                    # PlentyONE notes §5.1: every route answering a PaginatedResult takes `page` and `itemsPerPage`;
                    # the spec leaves them out on many such routes (attributes, units, statuses, properties...).
                    declared += ["page", "itemsPerPage"]
                names = frozenset(normalise_query_name(name, system) for name in declared)
                parents = {name[:index] for name in names for index in _bracket_positions(name)}
                rules = self._queries[key] = _QueryRules(names, frozenset(parents))
            return rules

    def _check_request_body(
        self, system: System, operation: Operation, exchange: Exchange, spec_path: SpecPath | None
    ) -> list[str]:
        body = exchange.request_body
        if isinstance(body, str) and "json" not in exchange.request_content_type:
            return []  # form or query-string bodies (PlentyONE login accepts them, notes §2.1)
        schema, required = _request_schema(operation.spec)
        if schema is None:
            if body not in (None, {}, []):
                return ["request body sent, but the operation declares none"]
            return []
        if body is None:
            return ["request body is required"] if required else []
        validator = self._validator(system, operation, "request", schema)
        if validator is None:
            return []
        if (spec_path is not None and spec_path.is_bulk) or (
            (system, operation.method, operation.template) in REQUEST_BODY_AS_ARRAY and isinstance(body, list)
        ):
            if not isinstance(body, list):
                return ["request body must be an array"]
            return [f"request body[{i}]: {p}" for i, item in enumerate(body) for p in _errors(validator, item)]
        return [f"request body: {p}" for p in _errors(validator, body)]

    def _check_response(
        self, system: System, operation: Operation | None, exchange: Exchange, spec_path: SpecPath | None
    ) -> list[str]:
        body = exchange.response_body
        content_type = exchange.header("content-type") or ""
        if isinstance(body, str) and "json" not in content_type:
            return []  # documents (PDF, ZIP) and other non-JSON answers
        if exchange.status >= 400:
            validator = self._fixed_validator(f"error {system}", ERROR_ENVELOPES[system])
            return [f"error response: {p}" for p in _errors(validator, body)]
        if not 200 <= exchange.status < 300 or operation is None:
            return []
        if spec_path is not None and spec_path.is_async:
            validator = self._fixed_validator("async", ASYNC_RESPONSE)
            return [f"async response: {p}" for p in _errors(validator, body)]
        schema = _response_schema(operation.spec, exchange.status)
        if schema is None:
            return []
        validator = self._validator(system, operation, "response", schema)
        return [f"response: {p}" for p in _errors(validator, body)] if validator else []

    # compiled validators

    def _validator(
        self, system: System, operation: Operation, mode: Mode, schema: Any
    ) -> jsonschema.protocols.Validator | None:
        key = (f"{system} {operation.key}", mode)
        with self._lock:
            if key not in self._validators:
                route = (system, operation.method, operation.template)
                if mode == "request" and route in REQUEST_EXTRA_PROPERTIES:
                    schema = self._with_extra_properties(system, schema, *REQUEST_EXTRA_PROPERTIES[route])
                wrap = RESPONSE_ALTERNATIVES.get(route)
                document = self._converters[system].document(schema, mode, wrap=wrap if mode == "response" else None)
                self._validators[key] = jsonschema.Draft7Validator(document) if document else None
            return self._validators[key]

    def _with_extra_properties(
        self, system: System, schema: Any, named: tuple[str, ...], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        converter = self._converters[system]
        merged = dict(converter.resolve(schema))
        properties: dict[str, Any] = {}
        for name in named:
            properties.update(converter.resolve(converter.definitions.get(name, {})).get("properties", {}))
        properties.update(merged.get("properties", {}))
        properties.update(extra)
        merged["properties"] = properties
        merged.setdefault("type", "object")
        return merged

    def _fixed_validator(self, name: str, schema: JSONSchema) -> jsonschema.protocols.Validator:
        key = (name, "fixed")
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                validator = self._validators[key] = jsonschema.Draft7Validator(schema)
            return validator


def _bracket_positions(name: str) -> list[int]:
    return [index for index, char in enumerate(name) if char == "["]


def _named_schemas(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    if "definitions" in spec:
        return dict(spec["definitions"])
    return dict(spec.get("components", {}).get("schemas", {}))


def _request_schema(operation: Mapping[str, Any]) -> tuple[Any, bool]:
    """The declared request body schema (OpenAPI 3 requestBody or Swagger 2 ``in: body``) and whether it is required."""
    request_body = operation.get("requestBody")
    if isinstance(request_body, Mapping):
        return _pick_content(request_body.get("content", {})), bool(request_body.get("required"))
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "body":
            return parameter.get("schema"), bool(parameter.get("required"))
    return None, False


def _answers_paginated(operation: Mapping[str, Any]) -> bool:
    schema = _response_schema(operation, 200)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    return isinstance(properties, Mapping) and "entries" in properties and "page" in properties


def _response_schema(operation: Mapping[str, Any], status: int) -> Any:
    responses = operation.get("responses", {})
    response = responses.get(str(status)) or responses.get("200")
    if not isinstance(response, Mapping):
        return None
    if "schema" in response:
        return response["schema"]
    return _pick_content(response.get("content", {}))


def _pick_content(content: Mapping[str, Any]) -> Any:
    ranked = sorted(content.items(), key=lambda item: (item[0] != "application/json", "json" not in item[0]))
    for _media_type, media in ranked:
        if isinstance(media, Mapping) and "schema" in media:
            return media["schema"]
    return None


def _errors(validator: jsonschema.protocols.Validator, instance: Any) -> list[str]:
    messages = {_describe(error) for error in validator.iter_errors(instance)}
    return sorted(messages)


def _describe(error: ValidationError) -> str:
    while error.validator in ("anyOf", "oneOf") and error.context:
        relevant = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        error = best_match(relevant or error.context) or error
        if error.validator not in ("anyOf", "oneOf"):
            break
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(str(kind) for kind in expected if kind != "null")
        message = f"expected {wanted or 'null'}, got {_json_type(error.instance)} {_short(error.instance)}"
    else:
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where.lstrip('.') or '<root>'}: {message}"


def _json_type(value: Any) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_validator(systems: Iterable[System] = SYSTEMS, allowlist: AllowList | None = None) -> ContractValidator:
    """A validator over the reference specs (raises SpecUnavailableError when they are absent)."""
    return ContractValidator({system: load_spec(system) for system in systems}, allowlist or AllowList.load())


def assert_no_stale_allowlist_entries(validator: ContractValidator, systems: Iterable[str] | None = None) -> None:
    """Fail when an allow-list entry was needed by nothing validated so far (call it after a run)."""
    stale = validator.allowlist.stale(systems)
    assert not stale, "stale allow-list entries (remove them from tests/contract/allowlist.toml):\n" + "\n".join(
        f"  {entry.key}: {entry.reason}" for entry in stale
    )
