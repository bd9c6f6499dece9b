"""Products, configurable children and options, media, website assignments and base prices
(attributes and attribute sets live in :mod:`routes_attributes`)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from plentysync.sandbox.magento.errors import bad_request, not_found, required
from plentysync.sandbox.magento.products import (
    PRODUCT_TYPES,
    delete_product,
    normalise_media,
    render_product,
    save_product,
)
from plentysync.sandbox.magento.router import Ctx, Router
from plentysync.sandbox.magento.search import SearchCriteria, evaluate, search_result
from plentysync.sandbox.magento.state import Record, clean_number

router = Router()
PRODUCTS = "Magento_Catalog::products"
BASE_PRICE_TYPES = frozenset({"simple", "virtual", "bundle", "downloadable"})
"""Types the base-price storage accepts; other SKUs are left out of its answers."""


def _store_for_read(ctx: Ctx) -> int:
    raw = ctx.query.get("storeId")
    if isinstance(raw, str) and raw.strip():
        try:
            return int(raw)
        except ValueError:
            raise bad_request('The "%1" value\'s type is invalid.', [raw]) from None
    return ctx.scope.store_id


def _entity_id_as_id(criteria: SearchCriteria) -> SearchCriteria:
    """Magento filters and sorts products on the table column ``entity_id``, which the product JSON
    calls ``id``; answer both names (the echo keeps what the client sent)."""

    def name(field_name: str) -> str:
        return "id" if field_name == "entity_id" else field_name

    return replace(
        criteria,
        filter_groups=[[replace(f, field=name(f.field)) for f in group] for group in criteria.filter_groups],
        sort_orders=[(name(field_name), direction) for field_name, direction in criteria.sort_orders],
    )


@router.route("GET", "/products", PRODUCTS)
def search_products(ctx: Ctx) -> dict[str, Any]:
    criteria = _entity_id_as_id(ctx.criteria())
    store_id = ctx.scope.store_id
    rendered = [render_product(ctx.state, p, store_id, for_list=True) for p in ctx.state.products.values()]
    rendered.sort(key=lambda p: p["id"])
    return search_result(evaluate(rendered, criteria, ctx.limits), criteria)


@router.route("GET", "/products/types", PRODUCTS)
def product_types(ctx: Ctx) -> list[dict[str, str]]:
    return PRODUCT_TYPES


@router.route("GET", "/products/{sku}", PRODUCTS)
def get_product(ctx: Ctx) -> Record:
    record = ctx.state.require_product(ctx.params["sku"])
    return render_product(ctx.state, record, _store_for_read(ctx))


def _save(ctx: Ctx, product: Any) -> Record:
    ctx.check_array((product or {}).get("custom_attributes") if isinstance(product, dict) else None, "custom")
    record = save_product(ctx.state, product, ctx.scope.write_store, ctx.now())
    return render_product(ctx.state, record, ctx.scope.store_id)


@router.route("POST", "/products", PRODUCTS, body=("product", "saveOptions"))
def post_product(ctx: Ctx) -> Record:
    return _save(ctx, ctx.field("product"))


@router.route("PUT", "/products/{sku}", PRODUCTS, body=("product", "saveOptions"))
def put_product(ctx: Ctx) -> Record:
    product = ctx.field("product")
    if not isinstance(product, dict):
        raise bad_request("Invalid product data: %1", ["product"])
    product = {**product, "sku": ctx.params["sku"]}
    return _save(ctx, product)


@router.route("DELETE", "/products/{sku}", PRODUCTS)
def remove_product(ctx: Ctx) -> bool:
    delete_product(ctx.state, ctx.params["sku"])
    return True


# configurable products


def _configurable(ctx: Ctx) -> Record:
    record = ctx.state.require_product(ctx.params["sku"])
    return record


@router.route("GET", "/configurable-products/{sku}/children", PRODUCTS)
def children(ctx: Ctx) -> list[Record]:
    record = _configurable(ctx)
    out = []
    for child_id in (record.get("extension_attributes") or {}).get("configurable_product_links") or []:
        child = ctx.state.product_by_id(child_id)
        if child is not None:
            out.append(render_product(ctx.state, child, ctx.scope.store_id, for_list=True))
    return out


@router.route("POST", "/configurable-products/{sku}/child", PRODUCTS, body=("childSku",))
def add_child(ctx: Ctx) -> bool:
    record = _configurable(ctx)
    child = ctx.state.require_product(str(ctx.field("childSku")))
    ext = record.setdefault("extension_attributes", {})
    if record.get("type_id") != "configurable" or not ext.get("configurable_product_options"):
        raise bad_request("The parent product doesn't have configurable product options.")
    links: list[int] = ext.setdefault("configurable_product_links", [])
    if child["id"] in links:
        raise bad_request("The product is already attached.")
    links.append(child["id"])
    record["updated_at"] = ctx.now()
    return True


@router.route("DELETE", "/configurable-products/{sku}/children/{childSku}", PRODUCTS)
def remove_child(ctx: Ctx) -> bool:
    record = _configurable(ctx)
    child = ctx.state.product(ctx.params["childSku"])
    links = (record.get("extension_attributes") or {}).get("configurable_product_links") or []
    if child is None or child["id"] not in links:
        raise not_found("The option that was requested doesn't exist. Verify the entity and try again.")
    record["extension_attributes"]["configurable_product_links"] = [i for i in links if i != child["id"]]
    record["updated_at"] = ctx.now()
    return True


@router.route("GET", "/configurable-products/{sku}/options/all", PRODUCTS)
def configurable_options(ctx: Ctx) -> list[Record]:
    return list((_configurable(ctx).get("extension_attributes") or {}).get("configurable_product_options") or [])


@router.route("GET", "/configurable-products/{sku}/options/{id}", PRODUCTS)
def configurable_option(ctx: Ctx) -> Record:
    option_id = ctx.int_param("id")
    for option in (_configurable(ctx).get("extension_attributes") or {}).get("configurable_product_options") or []:
        if option.get("id") == option_id:
            return dict(option)
    raise not_found('The "%1" entity that was requested doesn\'t exist. Verify the entity and try again.', [option_id])


@router.route("POST", "/configurable-products/{sku}/options", PRODUCTS, body=("option",))
def add_configurable_option(ctx: Ctx) -> int:
    record = _configurable(ctx)
    option = ctx.field("option")
    if not isinstance(option, dict) or not option.get("attribute_id"):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "attribute_id"})
    attribute = ctx.state.attribute_by_id(option["attribute_id"])
    if attribute is None:
        raise bad_request("The attribute with id %1 doesn't exist.", [option["attribute_id"]])
    ext = record.setdefault("extension_attributes", {})
    options: list[Record] = ext.setdefault("configurable_product_options", [])
    if any(str(o.get("attribute_id")) == str(option["attribute_id"]) for o in options):
        raise bad_request("Something went wrong while saving option.")
    new = {
        "id": ctx.state.next_id("configurable_option"),
        "attribute_id": str(option["attribute_id"]),
        "label": option.get("label") or attribute.get("default_frontend_label"),
        "position": int(option.get("position") or 0),
        "values": [{"value_index": int(v["value_index"])} for v in option.get("values") or []],
        "product_id": record["id"],
    }
    options.append(new)
    record["type_id"] = "configurable"
    record["updated_at"] = ctx.now()
    return int(new["id"])


# media


def _entries(record: Record) -> list[Record]:
    entries: list[Record] = record.setdefault("media_gallery_entries", [])
    return entries


@router.route("GET", "/products/{sku}/media", PRODUCTS)
def list_media(ctx: Ctx) -> list[Record]:
    return _entries(ctx.state.require_product(ctx.params["sku"]))


@router.route("POST", "/products/{sku}/media", PRODUCTS, body=("entry",))
def add_media(ctx: Ctx) -> str:
    record = ctx.state.require_product(ctx.params["sku"])
    entry = ctx.field("entry")
    if not isinstance(entry, dict):
        raise bad_request("The image content is invalid. Verify the content and try again.")
    content = entry.get("content") or {}
    if not entry.get("file") and not content.get("base64_encoded_data"):
        raise bad_request("The image content is invalid. Verify the content and try again.")
    entry = {k: v for k, v in entry.items() if k != "id"}
    new = normalise_media(ctx.state, entry)
    _entries(record).append(new)
    record["updated_at"] = ctx.now()
    return str(new["id"])


def _media_entry(ctx: Ctx) -> tuple[Record, Record]:
    record = ctx.state.require_product(ctx.params["sku"])
    entry_id = ctx.int_param("entryId")
    for entry in _entries(record):
        if int(entry["id"]) == entry_id:
            return record, entry
    raise not_found("The image doesn't exist. Verify and try again.")


@router.route("GET", "/products/{sku}/media/{entryId}", PRODUCTS)
def get_media(ctx: Ctx) -> Record:
    return _media_entry(ctx)[1]


@router.route("PUT", "/products/{sku}/media/{entryId}", PRODUCTS, body=("entry",))
def put_media(ctx: Ctx) -> bool:
    record, entry = _media_entry(ctx)
    update = ctx.field("entry")
    if isinstance(update, dict):
        entry.update({k: copy.deepcopy(v) for k, v in update.items() if k not in ("id", "content")})
    record["updated_at"] = ctx.now()
    return True


@router.route("DELETE", "/products/{sku}/media/{entryId}", PRODUCTS)
def delete_media(ctx: Ctx) -> bool:
    record, entry = _media_entry(ctx)
    record["media_gallery_entries"] = [e for e in _entries(record) if e is not entry]
    record["updated_at"] = ctx.now()
    return True


@router.route("POST", "/products/base-prices", PRODUCTS, body=("prices",))
def base_prices(ctx: Ctx) -> list[Record]:
    """Price storage: per-row failures come back in the list instead of an error status; the
    product's ``updated_at`` does not move."""
    prices = ctx.field("prices")
    if not isinstance(prices, list):
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "prices"})
    ctx.check_array(prices, "\\Magento\\Catalog\\Api\\Data\\BasePriceInterface")
    failures: list[Record] = []
    for entry in prices:
        sku = str(entry.get("sku", ""))
        record = ctx.state.product(sku)
        price = entry.get("price")
        if record is None:
            failures.append(
                {
                    "message": "Requested product doesn't exist. SKU: %SKU. Store ID: %storeId. Price: %price.",
                    "parameters": [sku, str(entry.get("store_id", 0)), str(price)],
                }
            )
            continue
        if not isinstance(price, int | float) or price < 0:
            failures.append(
                {
                    "message": "Invalid attribute %fieldName = %fieldValue.",
                    "parameters": ["Price", str(price)],
                }
            )
            continue
        record["price"] = price
    return failures


@router.route("POST", "/products/base-prices-information", PRODUCTS, body=("skus",))
def base_prices_information(ctx: Ctx) -> list[Record]:
    """``BasePriceStorage::get``: unknown SKUs and types without a price of their own are dropped
    silently; the price attribute is global, so each product answers once, for store 0."""
    skus = ctx.field("skus")
    if not isinstance(skus, list):
        raise required("skus")
    out: list[Record] = []
    seen: set[str] = set()
    for sku in skus:
        record = ctx.state.product(str(sku))
        if record is None or record["sku"] in seen or record.get("type_id") not in BASE_PRICE_TYPES:
            continue
        seen.add(record["sku"])
        if record.get("price") is not None:
            out.append({"price": clean_number(float(record["price"])), "store_id": 0, "sku": record["sku"]})
    return out


# websites


def _website_link(ctx: Ctx) -> tuple[Record, int]:
    link = ctx.field("productWebsiteLink")
    if not isinstance(link, dict):
        raise required("productWebsiteLink")
    website_id = link.get("website_id")
    if not website_id:
        raise bad_request("There are not websites for assign to product")
    record = ctx.state.require_product(str(link.get("sku") or ctx.params["sku"]))
    return record, int(website_id)


@router.route("POST", "/products/{sku}/websites", PRODUCTS, body=("productWebsiteLink",))
@router.route("PUT", "/products/{sku}/websites", PRODUCTS, body=("productWebsiteLink",))
def assign_website(ctx: Ctx) -> bool:
    """``ProductWebsiteLinkRepository::save``: the SKU comes from the body; assigning twice is harmless."""
    record, website_id = _website_link(ctx)
    if website_id not in ctx.state.websites or website_id == 0:
        raise bad_request('Could not assign product "%1" to websites "%2"', [record["id"], website_id])
    ext = record.setdefault("extension_attributes", {})
    ids: list[int] = ext.setdefault("website_ids", [])
    if website_id not in ids:
        ids.append(website_id)
    record["updated_at"] = ctx.now()
    return True


@router.route("DELETE", "/products/{sku}/websites/{websiteId}", PRODUCTS)
def unassign_website(ctx: Ctx) -> bool:
    record = ctx.state.require_product(ctx.params["sku"])
    website_id = ctx.int_param("websiteId")
    ext = record.setdefault("extension_attributes", {})
    ext["website_ids"] = [i for i in ext.get("website_ids") or [] if int(i) != website_id]
    record["updated_at"] = ctx.now()
    return True
