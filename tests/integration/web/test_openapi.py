"""Our own webhook has no official spec, so the served OpenAPI document is the contract: it must be a
well-formed OpenAPI 3.1 document (every schema valid JSON Schema 2020-12, every $ref resolving), it
must describe the routes, and real traffic must match what it declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from plentysync.db import Database
from plentysync.web.app import create_app
from plentysync.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.integration.web.support import body_of, live, signed_headers, stock_engine, web_settings

pytestmark = pytest.mark.anyio

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"external $ref {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schemas_of(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        yield f"components.schemas.{name}", schema
    for path, item in document["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                yield f"{method} {path} parameter {param['name']}", param["schema"]
            for media in op.get("requestBody", {}).get("content", {}).values():
                yield f"{method} {path} request", media["schema"]
            for status, response in op["responses"].items():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        yield f"{method} {path} {status}", media["schema"]


def check_document(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    for path, item in document["paths"].items():
        assert path.startswith("/")
        for method, op in item.items():
            assert method in METHODS, f"{path}: {method}"
            assert op["responses"], f"{method} {path} declares no responses"
            for status, response in op["responses"].items():
                assert status == "default" or (status.isdigit() and len(status) == 3)
                assert response["description"]
            for param in op.get("parameters", []):
                assert param["in"] in ("query", "header", "path", "cookie")
                if param["in"] == "path":
                    assert param["required"] is True
    for where, schema in schemas_of(document):
        Draft202012Validator.check_schema(schema)  # raises SchemaError with `where` in the traceback
        assert where
    for ref in set(refs(document)):
        resolve(document, ref)


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """Validates against ``schema`` with the document's components reachable through #/components refs."""
    return Draft202012Validator({**schema, "components": document.get("components", {})})


@pytest.mark.db
async def test_served_openapi_describes_the_routes_and_real_traffic_matches(db: Database) -> None:
    settings = web_settings()
    await stock_engine(db, settings)
    async with live(create_app(settings, db=db)) as url, httpx2.AsyncClient(base_url=url) as client:
        document = (await client.get("/openapi.json")).json()
        check_document(document)
        assert {"/webhooks/stock", "/healthz", "/metrics"} <= set(document["paths"])
        post = document["paths"]["/webhooks/stock"]["post"]
        assert set(post["responses"]) == {"202", "400", "401", "409", "413", "415", "503"}
        assert {(p["name"], p["required"]) for p in post["parameters"]} == {
            (SIGNATURE_HEADER, True),
            (TIMESTAMP_HEADER, True),
        }
        request_schema = post["requestBody"]["content"]["application/json"]["schema"]
        payloads: list[Any] = [
            {"skus": ["C-1"]},
            {"entity": "stock", "keys": ["C-2"]},
            {"eventName": "observer.catalog_product_save_after", "data": {"value": {"sku": "C-3"}}},
        ]
        examples = post["requestBody"]["content"]["application/json"]["examples"]
        payloads += [example["value"] for example in examples.values()]
        for payload in payloads:
            validator(document, request_schema).validate(payload)  # what the spec says is accepted...
            body = body_of(payload)
            response = await client.post("/webhooks/stock", content=body, headers=signed_headers(body))
            assert response.status_code == 202, response.text  # ...is accepted
            ok = post["responses"]["202"]["content"]["application/json"]["schema"]
            validator(document, ok).validate(response.json())
        assert not validator(document, request_schema).is_valid({"orders": [1]})
        refused = await client.post("/webhooks/stock", content=b'{"skus": ["C-9"]}')
        assert refused.status_code == 401
        error = post["responses"]["401"]["content"]["application/json"]["schema"]
        validator(document, error).validate(refused.json())
        health = await client.get("/healthz")
        assert str(health.status_code) in document["paths"]["/healthz"]["get"]["responses"]
        declared = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
        plain = await client.get("/metrics")
        assert plain.headers["content-type"] in declared
        assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
        openmetrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        assert openmetrics.headers["content-type"] in declared
        assert openmetrics.text.rstrip().endswith("# EOF")
        assert (await client.get("/docs")).status_code == 200


def test_openapi_without_starting_the_app() -> None:
    """``app.openapi()`` needs no database: the admin UI and docs can render it offline."""
    check_document(create_app(web_settings()).openapi())
