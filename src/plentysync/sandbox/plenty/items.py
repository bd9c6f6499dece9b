"""Items, variations and their relations (notes §6)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty.errors import Validator
from plentysync.sandbox.plenty.state import PlentyState, Record, public
from plentysync.sandbox.plenty.stock import variation_stock_row

VARIATION_RELATIONS = (
    "variationBarcodes",
    "variationSalesPrices",
    "variationCategories",
    "variationClients",
    "variationAttributeValues",
)
_ITEM_FIELDS = (
    "position",
    "itemType",
    "stockType",
    "storeSpecial",
    "ownerId",
    "manufacturerId",
    "producingCountryId",
    "revenueAccount",
    "couponRestriction",
    "condition",
    "conditionApi",
    "isSubscribable",
    "isSerialNumber",
    "isShippingPackage",
    "flagOne",
    "flagTwo",
    "ageRestriction",
    "feedback",
    "maximumOrderQuantity",
    "customsTariffNumber",
    *(f"free{n}" for n in range(1, 21)),
)
_VARIATION_FIELDS = (
    "position",
    "isActive",
    "number",
    "model",
    "externalId",
    "availability",
    "purchasePrice",
    "mainWarehouseId",
    "name",
    "weightG",
    "weightNetG",
    "widthMM",
    "lengthMM",
    "heightMM",
    "vatId",
    "unitCombinationId",
    "bundleType",
    "stockLimitation",
    "minimumOrderQuantity",
    "maximumOrderQuantity",
    "intervalOrderQuantity",
    "releasedAt",
    "availableUntil",
)
TEXT_FIELDS = (
    "name",
    "name2",
    "name3",
    "previewDescription",
    "metaDescription",
    "description",
    "technicalData",
    "urlPath",
    "metaKeywords",
)
"""The fields of a ``/descriptions`` record a client may write."""
_TEXT_TO_ITEM = {
    "name": "name1",
    "name2": "name2",
    "name3": "name3",
    "previewDescription": "shortDescription",
    "metaDescription": "metaDescription",
    "description": "description",
    "technicalData": "technicalData",
    "urlPath": "urlPath",
    "metaKeywords": "keywords",
}


def new_item(state: PlentyState, body: dict[str, Any], *, when: str | None = None) -> Record:
    now = when or state.now()
    item_id = state.next_id("item", 100)
    item: Record = {
        "id": item_id,
        "position": 0,
        "itemType": "default",
        "stockType": 0,
        "storeSpecial": 0,
        "ownerId": None,
        "manufacturerId": 0,
        "producingCountryId": 0,
        "mainVariationId": None,
        "revenueAccount": 0,
        "couponRestriction": 0,
        "condition": 0,
        "conditionApi": 0,
        "createdAt": now,
        "updatedAt": now,
        "isSubscribable": False,
        "isSerialNumber": False,
        "isShippingPackage": False,
        "amazonFbaPlatform": 0,
        "isShippableByAmazon": False,
        "amazonProductType": 0,
        "amazonFedas": "",
        "ebayPresetId": 0,
        "ebayCategory": 0,
        "ebayCategory2": 0,
        "ebayStoreCategory": 0,
        "ebayStoreCategory2": 0,
        "rakutenCategoryId": 0,
        "flagOne": 0,
        "flagTwo": 0,
        "ageRestriction": 0,
        "feedback": 0,
        **{f"free{n}": "0" if n >= 7 else "" for n in range(1, 21)},
        "maximumOrderQuantity": 0,
        "customsTariffNumber": "",
    }
    for key in _ITEM_FIELDS:
        if key in body:
            item[key] = body[key]
    state.items[item_id] = item
    state.item_texts.setdefault(item_id, [])
    return item


def validate_variation(
    state: PlentyState, body: dict[str, Any], v: Validator, path: str = "", own_id: int | None = None
) -> None:
    number = body.get("number")
    if number is not None:
        existing = state.variation_by_number(str(number))
        if existing is not None and existing["id"] != own_id:
            v.add(f"{path}number", "The number has already been taken.")
    for index, link in enumerate(body.get("variationCategories") or []):
        if link.get("categoryId") not in state.categories:
            v.add(f"{path}variationCategories.{index}.categoryId", "The selected category id is invalid.")


def new_variation(state: PlentyState, item: Record, body: dict[str, Any], *, when: str | None = None) -> Record:
    """Create a variation of ``item`` (the first one becomes the main variation). Validate first."""
    now = when or state.now()
    variation_id = state.next_id("variation", 1000)
    is_main = item["mainVariationId"] is None
    first_warehouse = min(state.warehouses) if state.warehouses else 1
    unit = body.get("unit") or {}
    variation: Record = {
        "id": variation_id,
        "isMain": is_main,
        "mainVariationId": None if is_main else item["mainVariationId"],
        "itemId": item["id"],
        "position": 0,
        "isActive": False,
        "number": f"NEW-{variation_id}",
        "model": "",
        "externalId": "",
        "availability": 1,
        "purchasePrice": 0,
        "mainWarehouseId": first_warehouse,
        "name": "",
        "weightG": 0,
        "weightNetG": 0,
        "widthMM": 0,
        "lengthMM": 0,
        "heightMM": 0,
        "vatId": 0,
        "unitCombinationId": 1,
        "unitsContained": 1,
        "bundleType": None,
        "stockLimitation": 0,
        "createdAt": now,
        "updatedAt": now,
        "relatedUpdatedAt": now,
        "unit": {"unitId": int(unit.get("unitId", 1)), "content": unit.get("content", 1)},
        "_rel": {name: [] for name in VARIATION_RELATIONS},
    }
    for key in _VARIATION_FIELDS:
        if key in body and body[key] is not None:
            variation[key] = body[key]
    variation["number"] = str(variation["number"])
    state.variations[variation_id] = variation
    if is_main:
        item["mainVariationId"] = variation_id
    for link in body.get("variationCategories") or []:
        add_category(state, variation, link)
    for link in body.get("variationBarcodes") or []:
        add_barcode(state, variation, link)
    for link in body.get("variationSalesPrices") or []:
        add_sales_price(state, variation, link)
    for link in body.get("variationClients") or []:
        add_client(state, variation, link)
    for link in body.get("variationAttributeValues") or []:
        add_attribute_value(state, variation, link)
    item["updatedAt"] = now
    return variation


def update_variation(state: PlentyState, variation: Record, body: dict[str, Any]) -> None:
    for key in _VARIATION_FIELDS:
        if key in body:
            variation[key] = body[key]
    variation["number"] = str(variation["number"])
    variation["updatedAt"] = state.now()


def update_item(state: PlentyState, item: Record, body: dict[str, Any]) -> None:
    for key in _ITEM_FIELDS:
        if key in body:
            item[key] = body[key]
    item["updatedAt"] = state.now()


def _related_changed(state: PlentyState, variation: Record) -> str:
    now = state.now()
    variation["relatedUpdatedAt"] = now
    return now


def add_category(state: PlentyState, variation: Record, link: dict[str, Any]) -> Record:
    _related_changed(state, variation)
    entry = {
        "variationId": variation["id"],
        "categoryId": int(link["categoryId"]),
        "position": int(link.get("position", 0)),
        "isNeckermannPrimary": bool(link.get("isNeckermannPrimary", False)),
    }
    links = [c for c in variation["_rel"]["variationCategories"] if c["categoryId"] != entry["categoryId"]]
    variation["_rel"]["variationCategories"] = [*links, entry]
    return entry


def add_barcode(state: PlentyState, variation: Record, link: dict[str, Any]) -> Record:
    now = _related_changed(state, variation)
    entry = {
        "variationId": variation["id"],
        "barcodeId": int(link.get("barcodeId", 1)),
        "code": str(link["code"]),
        "createdAt": now,
    }
    variation["_rel"]["variationBarcodes"].append(entry)
    return entry


def add_sales_price(state: PlentyState, variation: Record, link: dict[str, Any]) -> Record:
    now = _related_changed(state, variation)
    prices = variation["_rel"]["variationSalesPrices"]
    price_id = int(link.get("salesPriceId", 1))
    for entry in prices:
        if entry["salesPriceId"] == price_id:
            entry["price"] = float(link["price"])
            entry["updatedAt"] = now
            return dict(entry)
    entry = {
        "variationId": variation["id"],
        "salesPriceId": price_id,
        "price": float(link["price"]),
        "lowestPrice": link.get("lowestPrice"),
        "lowestPriceCalculation": bool(link.get("lowestPriceCalculation", False)),
        "createdAt": now,
        "updatedAt": now,
    }
    prices.append(entry)
    return dict(entry)


def add_client(state: PlentyState, variation: Record, link: dict[str, Any]) -> Record:
    now = _related_changed(state, variation)
    plenty_id = int(link.get("plentyId", state.plenty_id))
    for entry in variation["_rel"]["variationClients"]:
        if entry["plentyId"] == plenty_id:
            return dict(entry)
    entry = {"variationId": variation["id"], "plentyId": plenty_id, "createdAt": now}
    variation["_rel"]["variationClients"].append(entry)
    return entry


def relation_entry(variation: Record, relation: str, key: str, value: int) -> Record | None:
    """The first ``relation`` link of the variation whose ``key`` is ``value`` (stored record, not a copy)."""
    return next((e for e in variation["_rel"][relation] if e[key] == value), None)


def unlink(state: PlentyState, variation: Record, relation: str, key: str, value: int) -> int:
    """Remove every ``relation`` link whose ``key`` is ``value``; the number removed."""
    links = variation["_rel"][relation]
    kept = [e for e in links if e[key] != value]
    removed = len(links) - len(kept)
    if removed:
        variation["_rel"][relation] = kept
        _related_changed(state, variation)
    return removed


def update_barcode(state: PlentyState, variation: Record, entry: Record, code: str) -> Record:
    _related_changed(state, variation)
    entry["code"] = code
    return dict(entry)


def update_sales_price(state: PlentyState, variation: Record, entry: Record, body: dict[str, Any]) -> Record:
    """Change the given fields of a price link (validate first)."""
    entry["updatedAt"] = _related_changed(state, variation)
    if body.get("price") is not None:
        entry["price"] = float(body["price"])
    if "lowestPrice" in body:
        entry["lowestPrice"] = None if body["lowestPrice"] is None else float(body["lowestPrice"])
    if body.get("lowestPriceCalculation") is not None:
        entry["lowestPriceCalculation"] = bool(body["lowestPriceCalculation"])
    return dict(entry)


def add_attribute_value(state: PlentyState, variation: Record, link: dict[str, Any]) -> Record:
    _related_changed(state, variation)
    value = state.attribute_values.get(int(link["valueId"]), {})
    attribute = state.attributes.get(int(value.get("attributeId", link.get("attributeId", 0))), {})
    entry = {
        "attributeValueSetId": variation["id"],
        "attributeId": attribute.get("id"),
        "valueId": int(link["valueId"]),
        "isLinkableToImage": False,
        "attribute": public(attribute) if attribute else None,
        "attributeValue": public(value) if value else None,
    }
    variation["_rel"]["variationAttributeValues"].append(entry)
    return entry


def render_variation(state: PlentyState, variation: Record, with_: set[str]) -> Record:
    out = public(variation)
    for name in VARIATION_RELATIONS:
        if name in with_:
            out[name] = [dict(entry) for entry in variation["_rel"][name]]
    if "stock" in with_:
        out["stock"] = [
            variation_stock_row(state, variation["id"], wid)
            for vid, wid in state.stock_pairs()
            if vid == variation["id"]
        ]
    if "item" in with_:
        item = state.items.get(variation["itemId"])
        out["item"] = public(item) if item else None
    if "variationDefaultCategory" in with_:
        out["variationDefaultCategory"] = [dict(c) for c in variation["_rel"]["variationCategories"][:1]]
    return out


def item_texts(state: PlentyState, item_id: int, langs: list[str] | None = None) -> list[Record]:
    """Texts in the item response shape (``name1``, ``shortDescription``, ``keywords``)."""
    texts = []
    for text in state.item_texts.get(item_id, []):
        if langs and text["lang"] not in langs:
            continue
        entry: Record = {"lang": text["lang"]}
        for src, dst in _TEXT_TO_ITEM.items():
            entry[dst] = text.get(src, "")
        texts.append(entry)
    return texts


def render_item(state: PlentyState, item: Record, with_: set[str], langs: list[str] | None = None) -> Record:
    out = public(item)
    out["texts"] = item_texts(state, item["id"], langs)
    if "variations" in with_:
        out["variations"] = [
            render_variation(state, v, set()) for v in state.variations.values() if v["itemId"] == item["id"]
        ]
    return out


def set_text(state: PlentyState, item_id: int, body: dict[str, Any]) -> Record:
    """Create or replace the item text of ``body["lang"]`` (texts are stored per item)."""
    texts = state.item_texts.setdefault(item_id, [])
    existing = state.item_text(item_id, str(body["lang"]))
    text: Record = existing or {"id": state.next_id("text"), "itemId": item_id, "lang": str(body["lang"])}
    for field in TEXT_FIELDS:
        text[field] = body.get(field, text.get(field, ""))
    text["title"] = text["name"]
    if existing is None:
        texts.append(text)
    state.items[item_id]["updatedAt"] = state.now()
    return dict(text)
