"""Categories (notes §7): details per (lang, plentyId); POST takes and returns arrays."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.errors import Validator, bad_request
from plentysync.sandbox.plenty.filters import time_param
from plentysync.sandbox.plenty.paging import paginate
from plentysync.sandbox.plenty.params import int_param, list_param, with_values
from plentysync.sandbox.plenty.state import PlentyState, Record, public
from plentysync.sandbox.plenty.timefmt import parse_stored

CATEGORIES_MAX = 250
_FIELDS = ("type", "linklist", "right", "sitemap")
_DETAIL_FIELDS = (
    "name",
    "nameUrl",
    "description",
    "description2",
    "shortDescription",
    "metaTitle",
    "metaDescription",
    "metaKeywords",
    "position",
    "image",
    "image2",
    "itemListView",
    "singleItemView",
    "pageView",
    "metaRobots",
    "canonicalLink",
)


def render(state: PlentyState, category: Record, with_: set[str], langs: list[str] | None) -> Record:
    out = public(category)
    details = out.pop("details")
    clients = out.pop("clients")
    out["hasChildren"] = any(c["parentCategoryId"] == category["id"] for c in state.categories.values())
    if "details" in with_:
        out["details"] = [d for d in details if not langs or d["lang"] in langs]
    if "clients" in with_:
        out["clients"] = clients
    return out


def _set_details(state: PlentyState, category: Record, details: list[dict[str, Any]]) -> None:
    now = state.now()
    for raw in details:
        plenty_id = int(raw.get("plentyId", state.plenty_id))
        lang = str(raw["lang"])
        existing = next((d for d in category["details"] if d["lang"] == lang and d["plentyId"] == plenty_id), None)
        detail = existing or {"categoryId": category["id"], "lang": lang, "plentyId": plenty_id}
        for field in _DETAIL_FIELDS:
            if field in raw:
                detail[field] = raw[field]
            else:
                detail.setdefault(field, "")
        if not detail.get("nameUrl"):
            detail["nameUrl"] = str(detail.get("name", "")).lower().replace(" ", "-")
        detail["position"] = str(detail.get("position") or "0")
        detail["updatedAt"] = now
        if existing is None:
            category["details"].append(detail)
    category["updatedAt"] = now


def _validate(state: PlentyState, raw: Any, path: str, v: Validator) -> None:
    if not isinstance(raw, dict):
        v.add(path.rstrip("."), "The category must be an object.")
        return
    parent = raw.get("parentCategoryId")
    if parent is not None and parent not in state.categories:
        v.add(f"{path}parentCategoryId", "The selected parent category id is invalid.")
    for index, detail in enumerate(raw.get("details") or []):
        v.require(detail, "lang", f"{path}details.{index}.")
        v.require(detail, "name", f"{path}details.{index}.")


async def list_categories(ctx: Ctx) -> Any:
    q, state = ctx.query, ctx.state
    entries = list(state.categories.values())
    if q.get("type"):
        entries = [c for c in entries if c["type"] == q["type"]]
    parent = int_param(q, "parentId")
    if parent is not None:
        entries = [c for c in entries if c["parentCategoryId"] == parent]
    level = int_param(q, "level")
    if level is not None:
        entries = [c for c in entries if c["level"] == level]
    plenty_id = int_param(q, "plentyId")
    if plenty_id is not None:
        entries = [c for c in entries if any(cl["plentyId"] == plenty_id for cl in c["clients"])]
    if q.get("name"):
        entries = [c for c in entries if any(d.get("name") == q["name"] for d in c["details"])]
    since = time_param(q, "updatedAt")
    if since is not None:
        entries = [c for c in entries if parse_stored(c["updatedAt"]) >= since]
    langs = list_param(q, "lang") or None
    with_ = with_values(q)
    rendered = [render(state, c, with_, langs) for c in entries]
    return paginate(rendered, q, max_per_page=CATEGORIES_MAX, clamp=ctx.config.clamp_pages)


async def get_category(ctx: Ctx) -> Any:
    category = lookup(ctx.state.categories, ctx.path_int("category_id"), "Category")
    return render(ctx.state, category, with_values(ctx.query), list_param(ctx.query, "lang") or None)


async def create_categories(ctx: Ctx) -> Any:
    data = await ctx.data()
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise bad_request("The request body must be an array of categories.")
    v = Validator()
    for index, raw in enumerate(data):
        _validate(ctx.state, raw, f"{index}.", v)
    v.check()
    created = []
    for raw in data:
        category_id = ctx.state.next_id("category", 16)
        parent = raw.get("parentCategoryId")
        category: Record = {
            "id": category_id,
            "parentCategoryId": parent,
            "level": ctx.state.categories[parent]["level"] + 1 if parent else 1,
            "type": "item",
            "linklist": "Y",
            "right": "all",
            "sitemap": "Y",
            "updatedAt": ctx.state.now(),
            "details": [],
            "clients": [{"plentyId": int(c["plentyId"])} for c in raw.get("clients") or []],
        }
        for field in _FIELDS:
            if field in raw:
                category[field] = raw[field]
        ctx.state.categories[category_id] = category
        _set_details(ctx.state, category, raw.get("details") or [])
        created.append(render(ctx.state, category, {"details", "clients"}, None))
    return created


async def update_category(ctx: Ctx) -> Any:
    category = lookup(ctx.state.categories, ctx.path_int("category_id"), "Category")
    body = await ctx.body()
    v = Validator()
    _validate(ctx.state, body, "", v)
    v.check()
    for field in _FIELDS:
        if field in body:
            category[field] = body[field]
    if "parentCategoryId" in body:
        parent = body["parentCategoryId"]
        category["parentCategoryId"] = parent
        category["level"] = ctx.state.categories[parent]["level"] + 1 if parent else 1
    if "clients" in body:
        category["clients"] = [{"plentyId": int(c["plentyId"])} for c in body["clients"] or []]
    _set_details(ctx.state, category, body.get("details") or [])
    return render(ctx.state, category, {"details", "clients"}, None)


ROUTES: list[RouteSpec] = [
    ("GET", "/rest/categories", list_categories),
    ("POST", "/rest/categories", create_categories),
    ("GET", "/rest/categories/{category_id:int}", get_category),
    ("PUT", "/rest/categories/{category_id:int}", update_category),
]
