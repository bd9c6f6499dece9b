"""Reading query parameters and bodies the way the PlentyONE servers do."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import QueryParams
from starlette.requests import Request

from plentysync.sandbox.plenty.errors import bad_request, validation_error


def with_values(query: QueryParams) -> set[str]:
    """``with[]=a&with[]=b``, ``with=a,b`` and ``with[0]=a`` all work; unknown values are the caller's to ignore."""
    values: set[str] = set()
    for key, value in query.multi_items():
        if key == "with" or (key.startswith("with[") and key.endswith("]")):
            values.update(part.strip() for part in value.split(",") if part.strip())
    return values


def list_param(query: QueryParams, name: str) -> list[str]:
    """A csv or ``name[]=`` repeated parameter."""
    out: list[str] = []
    for key, value in query.multi_items():
        if key in (name, f"{name}[]"):
            out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def int_list(query: QueryParams, name: str) -> list[int] | None:
    values = list_param(query, name)
    if not values:
        return None
    try:
        return [int(float(v)) for v in values]
    except ValueError as exc:
        raise validation_error({name: [f"The {name} must be an integer."]}) from exc


def int_param(query: QueryParams, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(float(raw))
    except ValueError as exc:
        raise validation_error({name: [f"The {name} must be an integer."]}) from exc


def float_param(query: QueryParams, name: str) -> float | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise validation_error({name: [f"The {name} must be a number."]}) from exc


def bool_param(query: QueryParams, name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    return raw.strip().lower() in ("1", "true", "yes", "on")


async def body_data(request: Request) -> Any:
    """JSON body, or a form body as a flat dict, or ``None`` when empty."""
    raw = await request.body()
    if not raw.strip():
        return None
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request("The request body is not valid JSON.") from exc


async def body_object(request: Request) -> dict[str, Any]:
    data = await body_data(request)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data
