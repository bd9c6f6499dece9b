"""Categories: tree, list, CRUD with store-view values, move, and product assignments."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.magento.errors import bad_request, no_such_entity, not_supported
from plentysync.sandbox.magento.router import Ctx, Router
from plentysync.sandbox.magento.search import evaluate, search_result
from plentysync.sandbox.magento.seed import slug
from plentysync.sandbox.magento.state import MagentoState, Record

router = Router()
CATEGORIES = "Magento_Catalog::categories"
SCOPED = frozenset({"name", "is_active", "include_in_menu", "url_key", "url_path", "description", "meta_title"})
CATEGORY_KEYS = frozenset(
    {
        "id",
        "parent_id",
        "name",
        "is_active",
        "position",
        "level",
        "children",
        "created_at",
        "updated_at",
        "path",
        "available_sort_by",
        "include_in_menu",
        "extension_attributes",
        "custom_attributes",
    }
)


def _custom(record: Record, code: str) -> Any:
    for attr in record.get("custom_attributes") or []:
        if attr.get("attribute_code") == code:
            return attr.get("value")
    return None


def _set_custom(record: Record, code: str, value: Any) -> None:
    attrs: list[Record] = record.setdefault("custom_attributes", [])
    for attr in attrs:
        if attr.get("attribute_code") == code:
            attr["value"] = value
            return
    attrs.append({"attribute_code": code, "value": value})


def _children_of(state: MagentoState, category_id: int) -> list[Record]:
    kids = [c for c in state.categories.values() if c["parent_id"] == category_id]
    return sorted(kids, key=lambda c: (c["position"], c["id"]))


def render_category(state: MagentoState, record: Record, store_id: int) -> Record:
    out = copy.deepcopy(record)
    for code, value in state.category_overrides.get(record["id"], {}).get(store_id, {}).items():
        if code in CATEGORY_KEYS:
            out[code] = value
        else:
            _set_custom(out, code, value)
    out["children"] = ",".join(str(c["id"]) for c in _children_of(state, record["id"]))
    return out


def _category(ctx: Ctx, name: str = "categoryId") -> Record:
    category_id = ctx.int_param(name)
    record = ctx.state.categories.get(category_id)
    if record is None:
        raise no_such_entity("id", category_id)
    return record


def _product_count(state: MagentoState, category_id: int) -> int:
    wanted = str(category_id)
    return sum(
        1
        for p in state.products.values()
        if any(
            str(link["category_id"]) == wanted
            for link in (p.get("extension_attributes") or {}).get("category_links") or []
        )
    )


def _tree(state: MagentoState, record: Record, store_id: int, depth: int | None) -> Record:
    rendered = render_category(state, record, store_id)
    children = []
    if depth is None or depth > 0:
        next_depth = None if depth is None else depth - 1
        children = [_tree(state, c, store_id, next_depth) for c in _children_of(state, record["id"])]
    return {
        "id": record["id"],
        "parent_id": record["parent_id"],
        "name": rendered["name"],
        "is_active": rendered["is_active"],
        "position": record["position"],
        "level": record["level"],
        "product_count": _product_count(state, record["id"]),
        "children_data": children,
    }


@router.route("GET", "/categories", CATEGORIES)
def tree(ctx: Ctx) -> Record:
    raw_root = ctx.query.get("rootCategoryId")
    raw_depth = ctx.query.get("depth")
    if isinstance(raw_root, str) and raw_root:
        root_id = int(raw_root)
    else:
        view = ctx.state.store_views.get(ctx.scope.store_id) or {}
        group = ctx.state.store_groups.get(int(view.get("store_group_id", 0))) or {}
        root_id = int(group.get("root_category_id") or 1)
    root = ctx.state.categories.get(root_id)
    if root is None:
        raise no_such_entity("id", root_id)
    depth = int(raw_depth) if isinstance(raw_depth, str) and raw_depth else None
    return _tree(ctx.state, root, ctx.scope.store_id, depth)


@router.route("GET", "/categories/list", CATEGORIES)
def list_categories(ctx: Ctx) -> dict[str, Any]:
    criteria = ctx.criteria()
    items = [
        render_category(ctx.state, ctx.state.categories[k], ctx.scope.store_id) for k in sorted(ctx.state.categories)
    ]
    return search_result(evaluate(items, criteria, ctx.limits), criteria)


@router.route("GET", "/categories/{categoryId}", CATEGORIES)
def get_category(ctx: Ctx) -> Record:
    raw = ctx.query.get("storeId")
    store_id = int(raw) if isinstance(raw, str) and raw else ctx.scope.store_id
    return render_category(ctx.state, _category(ctx), store_id)


def _check_url_key(state: MagentoState, parent_id: int, url_key: str, own_id: int | None) -> None:
    for sibling in _children_of(state, parent_id):
        if sibling["id"] != own_id and _custom(sibling, "url_key") == url_key:
            raise bad_request("URL key for specified store already exists.")


def _validate(data: Any) -> Record:
    if not isinstance(data, dict):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "category"})
    for key in data:
        if key not in CATEGORY_KEYS:
            raise not_supported(key)
    return data


def _reparent(state: MagentoState, record: Record, parent: Record) -> None:
    record["parent_id"] = parent["id"]
    record["level"] = int(parent["level"]) + 1
    record["path"] = f"{parent['path']}/{record['id']}"
    for child in _children_of(state, record["id"]):
        _reparent(state, child, record)


@router.route("POST", "/categories", CATEGORIES, body=("category",))
def create_category(ctx: Ctx) -> Record:
    data = _validate(ctx.field("category"))
    if data.get("id") and int(data["id"]) in ctx.state.categories:
        return _update(ctx, ctx.state.categories[int(data["id"])], data)
    name = str(data.get("name") or "").strip()
    if not name:
        raise bad_request('The "%1" attribute value is empty. Set the attribute and try again.', ["name"])
    parent_id = int(data.get("parent_id") or 2)
    parent = ctx.state.categories.get(parent_id)
    if parent is None:
        raise no_such_entity("id", parent_id)
    url_key = str(_custom(data, "url_key") or slug(name))
    _check_url_key(ctx.state, parent_id, url_key, None)
    now = ctx.now()
    category_id = ctx.state.next_id("category")
    record: Record = {
        "id": category_id,
        "parent_id": parent_id,
        "name": name,
        "is_active": bool(data.get("is_active", True)),
        "position": int(data.get("position") or len(_children_of(ctx.state, parent_id)) + 1),
        "level": int(parent["level"]) + 1,
        "path": f"{parent['path']}/{category_id}",
        "created_at": now,
        "updated_at": now,
        "available_sort_by": list(data.get("available_sort_by") or []),
        "include_in_menu": bool(data.get("include_in_menu", True)),
        "extension_attributes": copy.deepcopy(data.get("extension_attributes") or {}),
        "custom_attributes": copy.deepcopy(data.get("custom_attributes") or []),
    }
    _set_custom(record, "url_key", url_key)
    ctx.state.categories[category_id] = record
    return render_category(ctx.state, record, ctx.scope.store_id)


def _update(ctx: Ctx, record: Record, data: Record) -> Record:
    store_id = ctx.scope.write_store
    overrides: Record | None = None
    if store_id:
        overrides = ctx.state.category_overrides.setdefault(record["id"], {}).setdefault(store_id, {})
    if "parent_id" in data and int(data["parent_id"]) != record["parent_id"]:
        parent = ctx.state.categories.get(int(data["parent_id"]))
        if parent is None:
            raise no_such_entity("id", data["parent_id"])
        _reparent(ctx.state, record, parent)
    url_key = _custom(data, "url_key")
    if url_key is not None:
        _check_url_key(ctx.state, record["parent_id"], str(url_key), record["id"])
    for key, value in data.items():
        if key in ("id", "parent_id", "children", "path", "level", "created_at", "updated_at"):
            continue
        if key == "custom_attributes":
            for attr in value or []:
                code = attr.get("attribute_code")
                if overrides is not None and code in SCOPED:
                    overrides[code] = attr.get("value")
                else:
                    _set_custom(record, code, attr.get("value"))
        elif overrides is not None and key in SCOPED:
            overrides[key] = value
        else:
            record[key] = copy.deepcopy(value)
    record["updated_at"] = ctx.now()
    return render_category(ctx.state, record, ctx.scope.store_id)


@router.route("PUT", "/categories/{id}", CATEGORIES, body=("category",))
def update_category(ctx: Ctx) -> Record:
    data = _validate(ctx.field("category"))
    return _update(ctx, _category(ctx, "id"), data)


@router.route("DELETE", "/categories/{categoryId}", CATEGORIES)
def delete_category(ctx: Ctx) -> bool:
    record = _category(ctx)
    if record["level"] <= 1:
        raise bad_request("Cannot delete category with id %1", [record["id"]])
    doomed = [c["id"] for c in ctx.state.categories.values() if f"/{record['id']}/" in f"/{c['path']}/"]
    for category_id in doomed:
        ctx.state.categories.pop(category_id, None)
        ctx.state.category_overrides.pop(category_id, None)
    wanted = {str(i) for i in doomed}
    for product in ctx.state.products.values():
        ext = product.get("extension_attributes") or {}
        if ext.get("category_links"):
            ext["category_links"] = [link for link in ext["category_links"] if str(link["category_id"]) not in wanted]
    return True


@router.route("PUT", "/categories/{categoryId}/move", CATEGORIES, body=("parentId", "afterId"))
def move_category(ctx: Ctx) -> bool:
    record = _category(ctx)
    parent_id = int(ctx.field("parentId"))
    parent = ctx.state.categories.get(parent_id)
    if parent is None:
        raise no_such_entity("id", parent_id)
    if f"/{record['id']}/" in f"/{parent['path']}/":
        raise bad_request("Operation do not allow to move a parent category to any of children category")
    url_key = _custom(record, "url_key")
    if url_key is not None:
        _check_url_key(ctx.state, parent_id, str(url_key), record["id"])
    after = ctx.field("afterId", required=False)
    siblings = [c for c in _children_of(ctx.state, parent_id) if c["id"] != record["id"]]
    index = 0
    if after is not None:
        index = next((i + 1 for i, c in enumerate(siblings) if c["id"] == int(after)), len(siblings))
    siblings.insert(index, record)
    _reparent(ctx.state, record, parent)
    for position, sibling in enumerate(siblings, start=1):
        sibling["position"] = position
    record["updated_at"] = ctx.now()
    return True


@router.route("GET", "/categories/{categoryId}/products", CATEGORIES)
def category_products(ctx: Ctx) -> list[Record]:
    record = _category(ctx)
    wanted = str(record["id"])
    out = []
    for product in sorted(ctx.state.products.values(), key=lambda p: p["id"]):
        for link in (product.get("extension_attributes") or {}).get("category_links") or []:
            if str(link["category_id"]) == wanted:
                out.append({"sku": product["sku"], "position": link.get("position", 0), "category_id": wanted})
    return out


def _assign(ctx: Ctx) -> bool:
    record = _category(ctx)
    link = ctx.field("productLink")
    if not isinstance(link, dict) or not link.get("sku"):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "sku"})
    product = ctx.state.require_product(str(link["sku"]))
    ext = product.setdefault("extension_attributes", {})
    links = [x for x in ext.get("category_links") or [] if str(x["category_id"]) != str(record["id"])]
    links.append({"position": int(link.get("position") or 0), "category_id": str(record["id"])})
    ext["category_links"] = links
    return True


@router.route("POST", "/categories/{categoryId}/products", CATEGORIES, body=("productLink",))
def post_category_product(ctx: Ctx) -> bool:
    return _assign(ctx)


@router.route("PUT", "/categories/{categoryId}/products", CATEGORIES, body=("productLink",))
def put_category_product(ctx: Ctx) -> bool:
    return _assign(ctx)


@router.route("DELETE", "/categories/{categoryId}/products/{sku}", CATEGORIES)
def delete_category_product(ctx: Ctx) -> bool:
    record = _category(ctx)
    product = ctx.state.require_product(ctx.params["sku"])
    ext = product.setdefault("extension_attributes", {})
    links = ext.get("category_links") or []
    kept = [x for x in links if str(x["category_id"]) != str(record["id"])]
    if len(kept) == len(links):
        raise bad_request("The category doesn't contain the specified product.")
    ext["category_links"] = kept
    return True
