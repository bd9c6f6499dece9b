"""Product records: store-scoped reads and writes, array replace semantics, the stock item that
lives in the ``default`` MSI source, and configurable options and links."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.magento.errors import bad_request, not_supported
from plentysync.sandbox.magento.state import DEFAULT_SOURCE, MagentoState, Record, clean_number

ADMIN_STORE = 0

SCOPED_FIELDS = frozenset(
    {
        "name",
        "status",
        "visibility",
        "description",
        "short_description",
        "url_key",
        "url_path",
        "meta_title",
        "meta_keyword",
        "meta_description",
    }
)
"""Attributes with store-view values (top-level fields or custom attribute codes)."""

PRODUCT_KEYS = frozenset(
    {
        "id",
        "sku",
        "name",
        "attribute_set_id",
        "price",
        "status",
        "visibility",
        "type_id",
        "created_at",
        "updated_at",
        "weight",
        "extension_attributes",
        "product_links",
        "options",
        "media_gallery_entries",
        "tier_prices",
        "custom_attributes",
    }
)
EXTENSION_KEYS = frozenset(
    {
        "website_ids",
        "category_links",
        "discounts",
        "bundle_product_options",
        "stock_item",
        "downloadable_product_links",
        "downloadable_product_samples",
        "giftcard_amounts",
        "configurable_product_options",
        "configurable_product_links",
    }
)
REPLACED_ARRAYS = ("product_links", "options", "media_gallery_entries", "tier_prices")
PRODUCT_TYPES = [
    {"name": "simple", "label": "Simple Product"},
    {"name": "virtual", "label": "Virtual Product"},
    {"name": "configurable", "label": "Configurable Product"},
    {"name": "bundle", "label": "Bundle Product"},
    {"name": "grouped", "label": "Grouped Product"},
    {"name": "downloadable", "label": "Downloadable Product"},
]


def _set_custom(record: Record, code: str, value: Any) -> None:
    attrs: list[Record] = record.setdefault("custom_attributes", [])
    for attr in attrs:
        if attr.get("attribute_code") == code:
            attr["value"] = value
            return
    attrs.append({"attribute_code": code, "value": value})


def stock_item(state: MagentoState, record: Record) -> Record:
    """The legacy stock item: the ``default`` source item seen through CatalogInventory."""
    item = state.source_item(record["sku"], DEFAULT_SOURCE)
    qty = float(item["quantity"]) if item else 0.0
    return {
        "item_id": record["id"],
        "product_id": record["id"],
        "stock_id": 1,
        "qty": clean_number(qty),
        "is_in_stock": bool(item and int(item["status"]) == 1),
        "is_qty_decimal": False,
        "show_default_notification_message": False,
        "use_config_min_qty": True,
        "min_qty": 0,
        "use_config_min_sale_qty": 1,
        "min_sale_qty": 1,
        "use_config_max_sale_qty": True,
        "max_sale_qty": 10000,
        "use_config_backorders": True,
        "backorders": 0,
        "use_config_notify_stock_qty": True,
        "notify_stock_qty": 1,
        "use_config_qty_increments": True,
        "qty_increments": 0,
        "use_config_enable_qty_inc": True,
        "enable_qty_increments": False,
        "use_config_manage_stock": True,
        "manage_stock": True,
        "low_stock_date": None,
        "is_decimal_divided": False,
        "stock_status_changed_auto": 0,
    }


def apply_stock_item(state: MagentoState, sku: str, data: Record) -> None:
    """Legacy stock writes land in the ``default`` source only (MSI)."""
    current = state.source_item(sku, DEFAULT_SOURCE)
    qty = float(data["qty"]) if data.get("qty") is not None else float(current["quantity"]) if current else 0.0
    if data.get("is_in_stock") is not None:
        status = 1 if data["is_in_stock"] else 0
    else:
        status = int(current["status"]) if current else (1 if qty > 0 else 0)
    state.set_source_item(sku, DEFAULT_SOURCE, qty, status)


def render_product(state: MagentoState, record: Record, store_id: int, *, for_list: bool = False) -> Record:
    out = copy.deepcopy(record)
    if store_id != ADMIN_STORE:
        for code, value in state.product_overrides.get(record["sku"], {}).get(store_id, {}).items():
            if code in PRODUCT_KEYS:
                out[code] = value
            else:
                _set_custom(out, code, value)
    ext = out.setdefault("extension_attributes", {})
    links = ext.get("category_links") or []
    _set_custom(out, "category_ids", [str(link["category_id"]) for link in links])
    if not for_list:
        ext["stock_item"] = stock_item(state, record)
    return out


def _check_keys(product: Record) -> None:
    for key in product:
        if key not in PRODUCT_KEYS:
            raise not_supported(key)
    ext = product.get("extension_attributes")
    if ext is not None and not isinstance(ext, dict):
        raise bad_request("Invalid product data: %1", ["extension_attributes"])
    for key in ext or {}:
        if key not in EXTENSION_KEYS:
            raise not_supported(key)


def _normalise_configurable(state: MagentoState, record: Record, options: list[Record]) -> list[Record]:
    out = []
    for option in options:
        option = copy.deepcopy(option)
        option.setdefault("id", state.next_id("configurable_option"))
        option["product_id"] = record["id"]
        if "attribute_id" in option:
            option["attribute_id"] = str(option["attribute_id"])
        attribute = state.attribute_by_id(option.get("attribute_id", ""))
        if attribute is not None:
            option.setdefault("label", attribute.get("default_frontend_label"))
        option.setdefault("position", 0)
        option["values"] = [{"value_index": int(v["value_index"])} for v in option.get("values") or []]
        out.append(option)
    return out


def _apply_extension(state: MagentoState, record: Record, ext: Record) -> None:
    stored: Record = record.setdefault("extension_attributes", {})
    for key, value in ext.items():
        if key == "stock_item":
            if isinstance(value, dict):
                apply_stock_item(state, record["sku"], value)
        elif key == "configurable_product_options":
            stored[key] = _normalise_configurable(state, record, value or [])
        elif key == "configurable_product_links":
            ids = [int(v) for v in value or []]
            for child_id in ids:
                if state.product_by_id(child_id) is None:
                    raise bad_request('The product with id "%1" doesn\'t exist.', [child_id])
            stored[key] = ids
        elif key == "website_ids":
            stored[key] = [int(v) for v in value or []]
        elif key == "category_links":
            stored[key] = [
                {"position": int(link.get("position", 0)), "category_id": str(link["category_id"])}
                for link in value or []
            ]
        else:
            stored[key] = copy.deepcopy(value)


def _apply_custom(record: Record, overrides: Record | None, attrs: list[Record]) -> None:
    for attr in attrs:
        code = attr.get("attribute_code")
        if not code:
            raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "attribute_code"})
        if overrides is not None and code in SCOPED_FIELDS:
            overrides[code] = attr.get("value")
        else:
            _set_custom(record, code, attr.get("value"))


def new_product(state: MagentoState, sku: str, now: str) -> Record:
    return {
        "id": state.next_id("product"),
        "sku": sku,
        "name": sku,
        "attribute_set_id": 4,
        "price": 0,
        "status": 1,
        "visibility": 4,
        "type_id": "simple",
        "created_at": now,
        "updated_at": now,
        "weight": None,
        "extension_attributes": {"website_ids": [1]},
        "product_links": [],
        "options": [],
        "media_gallery_entries": [],
        "tier_prices": [],
        "custom_attributes": [],
    }


def save_product(state: MagentoState, product: Record, store_id: int | None, now: str) -> Record:
    """Upsert by SKU. ``store_id`` is the store view whose values an update writes (``None``: global,
    the ``/rest/all`` scope). A create always writes global values."""
    if not isinstance(product, dict):
        raise bad_request("Invalid product data: %1", ["product"])
    _check_keys(product)
    sku = str(product.get("sku") or "").strip()
    if not sku:
        raise bad_request('The "%1" attribute value is empty. Set the attribute and try again.', ["sku"])
    existing = state.product(sku)
    creating = existing is None
    record = new_product(state, sku, now) if existing is None else existing
    if creating:
        state.products[sku] = record
    overrides: Record | None = None
    if not creating and store_id is not None and store_id != ADMIN_STORE:
        overrides = state.product_overrides.setdefault(record["sku"], {}).setdefault(store_id, {})
    for key, value in product.items():
        if key in ("id", "sku", "created_at", "updated_at"):
            continue
        if key == "extension_attributes":
            _apply_extension(state, record, value or {})
        elif key == "custom_attributes":
            _apply_custom(record, overrides, value or [])
        elif key == "media_gallery_entries":
            record[key] = [normalise_media(state, entry) for entry in value or []]
        elif key in REPLACED_ARRAYS:
            record[key] = copy.deepcopy(value or [])
        elif overrides is not None and key in SCOPED_FIELDS:
            overrides[key] = value
        else:
            record[key] = value
    if overrides is not None and not overrides:
        state.product_overrides[record["sku"]].pop(store_id or 0, None)
    record["updated_at"] = now
    return record


def normalise_media(state: MagentoState, entry: Record) -> Record:
    entry = copy.deepcopy(entry)
    content = entry.pop("content", None)
    if not entry.get("id"):
        entry["id"] = state.next_id("media")
    if not entry.get("file"):
        name = str((content or {}).get("name") or f"image{entry['id']}.jpg")
        lowered = name.lower()
        entry["file"] = f"/{lowered[0]}/{lowered[1] if len(lowered) > 1 else '_'}/{name}"
    entry.setdefault("media_type", "image")
    entry.setdefault("label", None)
    entry.setdefault("position", 0)
    entry.setdefault("disabled", False)
    entry.setdefault("types", [])
    return entry


def delete_product(state: MagentoState, sku: str) -> None:
    record = state.require_product(sku)
    del state.products[record["sku"]]
    state.product_overrides.pop(record["sku"], None)
    for key in [k for k in state.source_items if k[0] == record["sku"]]:
        del state.source_items[key]
    for other in state.products.values():
        ext = other.get("extension_attributes") or {}
        links = ext.get("configurable_product_links")
        if links and record["id"] in links:
            ext["configurable_product_links"] = [i for i in links if i != record["id"]]
