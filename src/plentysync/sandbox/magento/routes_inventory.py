"""MSI (sources, stocks, links, source items, salable quantity) and the legacy stock endpoints,
which read and write the ``default`` source only."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.magento.errors import MagentoError, bad_request, not_found, required
from plentysync.sandbox.magento.products import apply_stock_item, stock_item
from plentysync.sandbox.magento.router import Ctx, Router
from plentysync.sandbox.magento.search import evaluate, indexed, search_result
from plentysync.sandbox.magento.state import (
    DEFAULT_SOURCE,
    DEFAULT_STOCK_ID,
    SOURCE_ITEM_TYPES,
    Record,
    clean_number,
)

router = Router()
SOURCE = "Magento_InventoryApi::source"
STOCK = "Magento_InventoryApi::stock"
STOCK_EDIT = "Magento_InventoryApi::stock_edit"
STOCK_DELETE = "Magento_InventoryApi::stock_delete"
LINK_DELETE = "Magento_InventoryApi::stock_source_link_delete"
SOURCE_ITEM = "Magento_InventoryApi::source_item"
LEGACY = "Magento_CatalogInventory::cataloginventory"
SOURCE_KEYS = frozenset(
    [
        "source_code",
        "name",
        "email",
        "contact_name",
        "enabled",
        "description",
        "latitude",
        "longitude",
        "country_id",
        "region_id",
        "region",
        "city",
        "street",
        "postcode",
        "phone",
        "fax",
        "use_default_carrier_config",
        "carrier_links",
        "extension_attributes",
    ]
)


def _search(ctx: Ctx, records: list[Record], *, required_param: bool) -> dict[str, Any]:
    criteria = ctx.criteria(required_param=required_param)
    return search_result(evaluate(records, criteria, ctx.limits), criteria)


@router.route("GET", "/inventory/sources", SOURCE)
def list_sources(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, list(ctx.state.sources.values()), required_param=False)


def _source_missing(code: str) -> Exception:
    return not_found('Source with code "%value" does not exist.', {"value": code})


@router.route("GET", "/inventory/sources/{sourceCode}", SOURCE)
def get_source(ctx: Ctx) -> Record:
    code = ctx.params["sourceCode"]
    source = ctx.state.sources.get(code)
    if source is None:
        raise _source_missing(code)
    return source


def _save_source(ctx: Ctx, data: Any, code: str | None) -> list[Any]:
    if not isinstance(data, dict):
        raise required("source")
    unknown = [k for k in data if k not in SOURCE_KEYS]
    if unknown:
        raise bad_request(
            '"%fieldName" is not supported. Correct the field name and try again.', {"fieldName": unknown[0]}
        )
    source_code = code or str(data.get("source_code") or "")
    errors = []
    if not source_code:
        errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "source_code"}})
    if not (data.get("name") or (ctx.state.sources.get(source_code) or {}).get("name")):
        errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "name"}})
    if not (data.get("postcode") or (ctx.state.sources.get(source_code) or {}).get("postcode")):
        errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "postcode"}})
    if not (data.get("country_id") or (ctx.state.sources.get(source_code) or {}).get("country_id")):
        errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "country_id"}})
    if errors:
        raise _validation(errors)
    record = ctx.state.sources.get(source_code) or {
        "enabled": True,
        "use_default_carrier_config": True,
        "carrier_links": [],
    }
    record.update(copy.deepcopy(data))
    record["source_code"] = source_code
    ctx.state.sources[source_code] = record
    return []


def _validation(errors: list[Record]) -> Exception:
    return MagentoError(400, "Validation Failed", None, errors)


@router.route("POST", "/inventory/sources", SOURCE, body=("source",))
def post_source(ctx: Ctx) -> list[Any]:
    return _save_source(ctx, ctx.field("source"), None)


@router.route("PUT", "/inventory/sources/{sourceCode}", SOURCE, body=("source",))
def put_source(ctx: Ctx) -> list[Any]:
    code = ctx.params["sourceCode"]
    if code not in ctx.state.sources:
        raise _source_missing(code)
    return _save_source(ctx, ctx.field("source"), code)


@router.route("GET", "/inventory/stocks", STOCK)
def list_stocks(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, [ctx.state.stocks[k] for k in sorted(ctx.state.stocks)], required_param=False)


def _stock(ctx: Ctx, name: str = "stockId") -> Record:
    stock_id = ctx.int_param(name)
    stock = ctx.state.stocks.get(stock_id)
    if stock is None:
        raise not_found('Stock with id "%value" does not exist.', {"value": stock_id})
    return stock


@router.route("GET", "/inventory/stocks/{stockId}", STOCK)
def get_stock(ctx: Ctx) -> Record:
    return _stock(ctx)


def _stock_name(data: Any) -> str:
    if not isinstance(data, dict) or not str(data.get("name") or "").strip():
        raise _validation([{"message": '"%field" can not be empty.', "parameters": {"field": "name"}}])
    return str(data["name"])


def _set_sales_channels(ctx: Ctx, stock_id: int, channels: list[Record]) -> None:
    """A sales channel belongs to one stock: assigning it here takes it away from any other stock."""
    wanted = {(str(c.get("type")), str(c.get("code"))) for c in channels}
    for other_id, other in ctx.state.stocks.items():
        if other_id == stock_id:
            continue
        ext = other.get("extension_attributes") or {}
        ext["sales_channels"] = [
            c for c in ext.get("sales_channels") or [] if (str(c.get("type")), str(c.get("code"))) not in wanted
        ]
    ctx.state.stocks[stock_id]["extension_attributes"]["sales_channels"] = [
        {"type": t, "code": c} for t, c in sorted(wanted)
    ]


@router.route("POST", "/inventory/stocks", STOCK_EDIT, body=("stock",))
def post_stock(ctx: Ctx) -> int:
    data = ctx.field("stock")
    name = _stock_name(data)
    stock_id = int(data.get("stock_id") or ctx.state.next_id("stock"))
    ctx.state.stocks[stock_id] = {"stock_id": stock_id, "name": name, "extension_attributes": {"sales_channels": []}}
    channels = (data.get("extension_attributes") or {}).get("sales_channels") or []
    _set_sales_channels(ctx, stock_id, channels)
    return stock_id


@router.route("PUT", "/inventory/stocks/{stockId}", STOCK_EDIT, body=("stock",))
def put_stock(ctx: Ctx) -> int:
    """Save under the id in the path; sales channels are replaced only when sent."""
    stock = _stock(ctx)
    data = ctx.field("stock")
    stock["name"] = _stock_name(data)
    ext = data.get("extension_attributes")
    if isinstance(ext, dict) and "sales_channels" in ext:
        _set_sales_channels(ctx, int(stock["stock_id"]), ext.get("sales_channels") or [])
    return int(stock["stock_id"])


@router.route("DELETE", "/inventory/stocks/{stockId}", STOCK_DELETE)
def delete_stock(ctx: Ctx) -> list[Any]:
    """The default stock and stocks still serving a sales channel cannot be deleted; the stock's
    source links and reservations go with it."""
    stock = _stock(ctx)
    stock_id = int(stock["stock_id"])
    if stock_id == DEFAULT_STOCK_ID:
        raise bad_request("Default Stock could not be deleted.")
    if (stock.get("extension_attributes") or {}).get("sales_channels"):
        raise bad_request("Stock has at least one sale channel and could not be deleted.")
    del ctx.state.stocks[stock_id]
    ctx.state.stock_source_links = [x for x in ctx.state.stock_source_links if int(x["stock_id"]) != stock_id]
    ctx.state.reservations = [r for r in ctx.state.reservations if int(r["stock_id"]) != stock_id]
    return []


@router.route("GET", "/inventory/stock-source-links", STOCK)
def list_links(ctx: Ctx) -> dict[str, Any]:
    return _search(ctx, list(ctx.state.stock_source_links), required_param=False)


@router.route("POST", "/inventory/stock-source-links", STOCK, body=("links",))
def post_links(ctx: Ctx) -> list[Any]:
    links = ctx.field("links")
    if not isinstance(links, list):
        raise required("links")
    for link in links:
        stock_id, code = int(link["stock_id"]), str(link["source_code"])
        if stock_id not in ctx.state.stocks or code not in ctx.state.sources:
            raise bad_request("Could not save StockSourceLinks")
        ctx.state.stock_source_links = [
            x for x in ctx.state.stock_source_links if not (x["stock_id"] == stock_id and x["source_code"] == code)
        ]
        ctx.state.stock_source_links.append(
            {"stock_id": stock_id, "source_code": code, "priority": int(link.get("priority") or 1)}
        )
    return []


@router.route("POST", "/inventory/stock-source-links-delete", LINK_DELETE, body=("links",))
def delete_links(ctx: Ctx) -> list[Any]:
    """Unassign sources from stocks; pairs that are not linked are ignored. The default source stays
    on the default stock."""
    links = ctx.field("links")
    if not isinstance(links, list):
        raise required("links")
    if not links:
        raise bad_request("Input data is empty")
    pairs = set()
    for link in links:
        if not isinstance(link, dict) or link.get("stock_id") is None or not link.get("source_code"):
            raise bad_request("Input data is invalid")
        pairs.add((int(link["stock_id"]), str(link["source_code"])))
    if (DEFAULT_STOCK_ID, DEFAULT_SOURCE) in pairs:
        raise bad_request("Can not unassign Default Source from Default Stock")
    ctx.state.stock_source_links = [
        x for x in ctx.state.stock_source_links if (int(x["stock_id"]), str(x["source_code"])) not in pairs
    ]
    return []


@router.route("GET", "/inventory/source-items", SOURCE_ITEM)
def list_source_items(ctx: Ctx) -> dict[str, Any]:
    criteria = ctx.criteria(required_param=True)
    # the sku index narrows ``sku in (...)`` reads to their candidates; the search itself is unchanged
    records = indexed(ctx.state, "source_items", "sku")
    candidates = records.candidates(criteria)
    items = sorted(records.values() if candidates is None else candidates, key=lambda i: (i["sku"], i["source_code"]))
    return search_result(evaluate(items, criteria, ctx.limits), criteria)


def _source_items(ctx: Ctx) -> list[Record]:
    items = ctx.field("sourceItems")
    if not isinstance(items, list):
        raise required("sourceItems")
    ctx.check_array(items, "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface")
    return items


@router.route("POST", "/inventory/source-items", SOURCE_ITEM, body=("sourceItems",))
def save_source_items(ctx: Ctx) -> list[Any]:
    """Upsert of the listed (sku, source_code) pairs only; validation runs over the whole batch first."""
    items = _source_items(ctx)
    errors: list[Record] = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("sku") or "").strip():
            errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "sku"}})
            continue
        if item.get("source_code") not in ctx.state.sources:
            errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "source_code"}})
        quantity = item.get("quantity")
        if quantity is not None and not isinstance(quantity, int | float):
            try:
                float(quantity)
            except (TypeError, ValueError):
                errors.append({"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}})
        if item.get("status") not in (0, 1, "0", "1"):
            errors.append({"message": '"%field" should a known status.', "parameters": {"field": "status"}})
    if errors:
        raise _validation(errors)
    for item in items:
        sku = str(item["sku"])
        product = ctx.state.product(sku)
        sku = product["sku"] if product else sku
        ctx.state.set_source_item(sku, str(item["source_code"]), float(item.get("quantity") or 0), int(item["status"]))
    return []


@router.route("POST", "/inventory/source-items-delete", SOURCE_ITEM, body=("sourceItems",))
def delete_source_items(ctx: Ctx) -> list[Any]:
    for item in _source_items(ctx):
        ctx.state.source_items.pop((str(item.get("sku")), str(item.get("source_code"))), None)
    return []


def _salable_product(ctx: Ctx) -> tuple[Record, int]:
    stock = _stock(ctx)
    product = ctx.state.require_product(ctx.params["sku"])
    if product.get("type_id") not in SOURCE_ITEM_TYPES:
        raise bad_request("Can't check requested quantity for products without Source Items support.")
    return product, int(stock["stock_id"])


@router.route("GET", "/inventory/get-product-salable-quantity/{sku}/{stockId}", STOCK)
def salable_quantity(ctx: Ctx) -> float | int:
    product, stock_id = _salable_product(ctx)
    return clean_number(ctx.state.salable_qty(product["sku"], stock_id))


@router.route("GET", "/inventory/is-product-salable/{sku}/{stockId}", STOCK)
def is_salable(ctx: Ctx) -> bool:
    stock = _stock(ctx)
    return ctx.state.is_salable(ctx.params["sku"], int(stock["stock_id"]))


@router.route("GET", "/inventory/are-products-salable", STOCK)
def are_salable(ctx: Ctx) -> list[Record]:
    """One result per requested SKU, in request order (unknown SKUs are simply not salable)."""
    skus = ctx.query.get("skus")
    if skus is None or skus == "":
        raise required("skus")
    raw_stock = ctx.query.get("stockId")
    if raw_stock is None or raw_stock == "":
        raise required("stockId")
    ctx.params["stockId"] = str(raw_stock)
    stock_id = int(_stock(ctx)["stock_id"])
    listed = list(skus.values()) if isinstance(skus, dict) else skus if isinstance(skus, list) else [skus]
    return [
        {"sku": str(sku), "stock_id": stock_id, "salable": ctx.state.is_salable(str(sku), stock_id)} for sku in listed
    ]


@router.route("GET", "/stockItems/{productSku}", LEGACY)
def get_stock_item(ctx: Ctx) -> Record:
    return stock_item(ctx.state, ctx.state.require_product(ctx.params["productSku"]))


@router.route("PUT", "/products/{productSku}/stockItems/{itemId}", LEGACY, body=("stockItem",))
def put_stock_item(ctx: Ctx) -> str:
    product = ctx.state.require_product(ctx.params["productSku"])
    data = ctx.field("stockItem")
    if not isinstance(data, dict):
        raise required("stockItem")
    apply_stock_item(ctx.state, product["sku"], data)
    return str(stock_item(ctx.state, product)["item_id"])


@router.route("GET", "/stockStatuses/{productSku}", LEGACY)
def stock_status(ctx: Ctx) -> Record:
    product = ctx.state.require_product(ctx.params["productSku"])
    item = stock_item(ctx.state, product)
    return {
        "product_id": product["id"],
        "stock_id": 1,
        "qty": item["qty"],
        "stock_status": 1 if item["is_in_stock"] else 0,
        "stock_item": item,
    }
