"""Items, variations, variation relations, texts, attributes (notes §6)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty import items
from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.errors import Validator, not_found, validation_error
from plentysync.sandbox.plenty.filters import between_param, in_range, time_param
from plentysync.sandbox.plenty.paging import paginate
from plentysync.sandbox.plenty.params import bool_param, int_list, int_param, list_param, with_values
from plentysync.sandbox.plenty.state import Record, public
from plentysync.sandbox.plenty.stock import variation_stock_row
from plentysync.sandbox.plenty.timefmt import parse_stored

ITEMS_MAX = 100
VARIATION_FILTERS = (
    "id",
    "itemId",
    "variationTagId",
    "itemName",
    "flagOne",
    "flagTwo",
    "storeSpecial",
    "categoryId",
    "isMain",
    "isActive",
    "barcode",
    "numberExact",
    "numberFuzzy",
    "isBundle",
    "plentyId",
    "referrerId",
    "supplierNumber",
    "supplierNumberFuzzy",
    "sku",
    "manufacturerId",
    "updatedBetween",
    "createdBetween",
    "relatedUpdatedBetween",
    "itemDescription",
    "stockWarehouseId",
    "supplierId",
)
_PAGING_AND_OPTIONS = ("with", "lang", "page", "itemsPerPage", "sortBy", "sortOrder")


def _variation_of(ctx: Ctx) -> Record:
    item_id = ctx.path_int("item_id")
    variation: Record = lookup(ctx.state.variations, ctx.path_int("variation_id"), "Variation")
    if variation["itemId"] != item_id:
        raise not_found(f"Variation {variation['id']} not found for item {item_id}")
    return variation


# -- items -------------------------------------------------------------------------------------


async def list_items(ctx: Ctx) -> Any:
    q = ctx.query
    entries = list(ctx.state.items.values())
    ids = int_list(q, "id")
    if ids is not None:
        entries = [i for i in entries if i["id"] in ids]
    if q.get("name"):
        entries = [i for i in entries if any(t.get("name") == q["name"] for t in ctx.state.item_texts.get(i["id"], []))]
    for flag in ("flagOne", "flagTwo", "manufacturerId"):
        value = int_param(q, flag)
        if value is not None:
            entries = [i for i in entries if i.get(flag) == value]
    updated = between_param(q, "updatedBetween")
    if updated is not None:
        entries = [i for i in entries if in_range(i["updatedAt"], updated)]
    for name, field in (
        ("variationUpdatedBetween", "updatedAt"),
        ("variationRelatedUpdatedBetween", "relatedUpdatedAt"),
    ):
        bounds = between_param(q, name)
        if bounds is not None:
            wanted = {v["itemId"] for v in ctx.state.variations.values() if in_range(v.get(field), bounds)}
            entries = [i for i in entries if i["id"] in wanted]
    langs = list_param(q, "lang") or None
    with_ = with_values(q)
    rendered = [items.render_item(ctx.state, i, with_, langs) for i in entries]
    return paginate(rendered, q, max_per_page=ITEMS_MAX, clamp=ctx.config.clamp_pages)


async def get_item(ctx: Ctx) -> Any:
    item = lookup(ctx.state.items, ctx.path_int("item_id"), "Item")
    return items.render_item(ctx.state, item, with_values(ctx.query), list_param(ctx.query, "lang") or None)


async def create_item(ctx: Ctx) -> Any:
    body = await ctx.body()
    raw_variations = body.get("variations") or [{}]
    v = Validator()
    for index, raw in enumerate(raw_variations):
        if not isinstance(raw, dict):
            v.add(f"variations.{index}", "The variation must be an object.")
            continue
        items.validate_variation(ctx.state, raw, v, f"variations.{index}.")
    numbers = [str(r["number"]) for r in raw_variations if isinstance(r, dict) and r.get("number") is not None]
    if len(numbers) != len(set(numbers)):
        v.add("variations", "The variation numbers must be distinct.")
    v.check()
    item = items.new_item(ctx.state, body)
    for raw in raw_variations:
        items.new_variation(ctx.state, item, raw)
    for text in body.get("texts") or []:
        if isinstance(text, dict) and text.get("lang"):
            items.set_text(ctx.state, item["id"], {**text, "name": text.get("name1", text.get("name", ""))})
    return items.render_item(ctx.state, item, {"variations"})


async def update_item(ctx: Ctx) -> Any:
    item = lookup(ctx.state.items, ctx.path_int("item_id"), "Item")
    items.update_item(ctx.state, item, await ctx.body())
    return items.render_item(ctx.state, item, set())


# -- variations --------------------------------------------------------------------------------


def _check_variation_filters(ctx: Ctx) -> None:
    unknown = []
    for key in ctx.query:
        base = key.split("[", 1)[0]
        if base not in VARIATION_FILTERS and base not in _PAGING_AND_OPTIONS:
            unknown.append(base)
    if unknown:
        message = (
            f"The following filter do not exist: {', '.join(sorted(set(unknown)))}. "
            f"Valid filters are: {', '.join(VARIATION_FILTERS)}"
        )
        raise validation_error({"filter": [message]})


def _variation_matches(ctx: Ctx, variation: Record) -> bool:
    q, state = ctx.query, ctx.state
    ids = int_list(q, "id")
    if ids is not None and variation["id"] not in ids:
        return False
    item_ids = int_list(q, "itemId")
    if item_ids is not None and variation["itemId"] not in item_ids:
        return False
    if q.get("numberExact") is not None and variation["number"] != q["numberExact"]:
        return False
    fuzzy = q.get("numberFuzzy")
    if fuzzy is not None and fuzzy.replace("%", "").lower() not in variation["number"].lower():
        return False
    barcode = q.get("barcode")
    if barcode is not None and not any(b["code"] == barcode for b in variation["_rel"]["variationBarcodes"]):
        return False
    for name in ("isActive", "isMain"):
        flag = bool_param(q, name)
        if flag is not None and bool(variation[name]) != flag:
            return False
    plenty_ids = int_list(q, "plentyId")
    if plenty_ids is not None and not any(c["plentyId"] in plenty_ids for c in variation["_rel"]["variationClients"]):
        return False
    category = int_param(q, "categoryId")
    if category is not None and not any(c["categoryId"] == category for c in variation["_rel"]["variationCategories"]):
        return False
    item_name = q.get("itemName")
    if item_name is not None and not any(
        item_name.lower() in str(t.get("name", "")).lower() for t in state.item_texts.get(variation["itemId"], [])
    ):
        return False
    warehouse = int_param(q, "stockWarehouseId")
    if warehouse is not None and (variation["id"], warehouse) not in state.stock_pairs():
        return False
    for name, field in (
        ("updatedBetween", "updatedAt"),
        ("createdBetween", "createdAt"),
        ("relatedUpdatedBetween", "relatedUpdatedAt"),
    ):
        bounds = between_param(q, name)
        if bounds is not None and not in_range(variation.get(field), bounds):
            return False
    return True


async def list_variations(ctx: Ctx) -> Any:
    _check_variation_filters(ctx)
    with_ = with_values(ctx.query)
    entries = [
        items.render_variation(ctx.state, v, with_) for v in ctx.state.variations.values() if _variation_matches(ctx, v)
    ]
    return paginate(entries, ctx.query, max_per_page=ITEMS_MAX, clamp=ctx.config.clamp_pages)


async def item_variations(ctx: Ctx) -> Any:
    item_id = ctx.path_int("item_id")
    lookup(ctx.state.items, item_id, "Item")
    with_ = with_values(ctx.query)
    entries = [
        items.render_variation(ctx.state, v, with_) for v in ctx.state.variations.values() if v["itemId"] == item_id
    ]
    return paginate(entries, ctx.query, max_per_page=ITEMS_MAX, clamp=ctx.config.clamp_pages)


async def create_variation(ctx: Ctx) -> Any:
    item = lookup(ctx.state.items, ctx.path_int("item_id"), "Item")
    body = await ctx.body()
    v = Validator()
    items.validate_variation(ctx.state, body, v)
    v.check()
    variation = items.new_variation(ctx.state, item, body)
    return items.render_variation(ctx.state, variation, set(items.VARIATION_RELATIONS))


async def get_variation(ctx: Ctx) -> Any:
    return items.render_variation(ctx.state, _variation_of(ctx), with_values(ctx.query))


async def update_variation(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    body = await ctx.body()
    v = Validator()
    items.validate_variation(ctx.state, body, v, own_id=variation["id"])
    v.check()
    items.update_variation(ctx.state, variation, body)
    return items.render_variation(ctx.state, variation, set())


async def variation_stock(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    return [variation_stock_row(ctx.state, vid, wid) for vid, wid in ctx.state.stock_pairs() if vid == variation["id"]]


# -- variation relations -----------------------------------------------------------------------


def _relation_list(name: str) -> Any:
    async def handler(ctx: Ctx) -> Any:
        return [dict(entry) for entry in _variation_of(ctx)["_rel"][name]]

    return handler


async def add_barcode(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    body = await ctx.body()
    v = Validator()
    v.require(body, "code")
    v.require(body, "barcodeId")
    if any(
        b["code"] == str(body.get("code")) and b["barcodeId"] == body.get("barcodeId")
        for b in variation["_rel"]["variationBarcodes"]
    ):
        v.add("code", "The barcode is already linked to this variation.")
    v.check()
    return items.add_barcode(ctx.state, variation, body)


async def add_sales_price(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    body = await ctx.body()
    v = Validator()
    if v.require(body, "salesPriceId") and int(body["salesPriceId"]) not in {p["id"] for p in ctx.state.sales_prices}:
        v.add("salesPriceId", "The selected sales price id is invalid.")
    if v.require(body, "price"):
        v.number(body, "price")
    v.check()
    return items.add_sales_price(ctx.state, variation, body)


async def add_category(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    body = await ctx.body()
    v = Validator()
    if v.require(body, "categoryId") and body["categoryId"] not in ctx.state.categories:
        v.add("categoryId", "The selected category id is invalid.")
    v.check()
    return items.add_category(ctx.state, variation, body)


async def add_client(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    body = await ctx.body()
    v = Validator()
    v.require(body, "plentyId")
    v.check()
    return items.add_client(ctx.state, variation, body)


def _deleted(count: int) -> Record:
    """The spec's ``DeleteResponse`` is a bare object; like the plugin interface's it reports the rows removed.
    Not verified on a real system (no recorded answer in the notes); the client ignores the body."""
    return {"affectedRows": count}


def _linked(variation: Record, relation: str, key: str, value: int, what: str) -> Record:
    entry = items.relation_entry(variation, relation, key, value)
    if entry is None:
        raise not_found(f"{what} {value} not found for variation {variation['id']}")
    return entry


async def update_barcode(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    barcode_id = ctx.path_int("barcode_id")
    entry = _linked(variation, "variationBarcodes", "barcodeId", barcode_id, "Barcode")
    body = await ctx.body()
    v = Validator()
    if v.require(body, "code"):
        code = str(body["code"])
        if any(
            b is not entry and b["barcodeId"] == barcode_id and b["code"] == code
            for b in variation["_rel"]["variationBarcodes"]
        ):
            v.add("code", "The barcode is already linked to this variation.")
    v.check()
    return items.update_barcode(ctx.state, variation, entry, str(body["code"]))


async def delete_barcode(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    barcode_id = ctx.path_int("barcode_id")
    _linked(variation, "variationBarcodes", "barcodeId", barcode_id, "Barcode")
    return _deleted(items.unlink(ctx.state, variation, "variationBarcodes", "barcodeId", barcode_id))


async def update_sales_price(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    entry = _linked(variation, "variationSalesPrices", "salesPriceId", ctx.path_int("price_id"), "Sales price")
    body = await ctx.body()
    v = Validator()
    for field in ("price", "lowestPrice"):
        if body.get(field) is not None:
            v.number(body, field)
    if body.get("lowestPriceCalculation") is not None and not isinstance(body["lowestPriceCalculation"], bool):
        v.add("lowestPriceCalculation", "The lowestPriceCalculation field must be true or false.")
    v.check()
    return items.update_sales_price(ctx.state, variation, entry, body)


async def delete_category(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    category_id = ctx.path_int("category_id")
    _linked(variation, "variationCategories", "categoryId", category_id, "Category")
    return _deleted(items.unlink(ctx.state, variation, "variationCategories", "categoryId", category_id))


async def delete_client(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    plenty_id = ctx.path_int("plenty_id")
    _linked(variation, "variationClients", "plentyId", plenty_id, "Client")
    return _deleted(items.unlink(ctx.state, variation, "variationClients", "plentyId", plenty_id))


async def descriptions(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    return [dict(t) for t in ctx.state.item_texts.get(variation["itemId"], [])]


async def add_description(ctx: Ctx) -> Any:
    variation = _variation_of(ctx)
    body = await ctx.body()
    v = Validator()
    v.require(body, "lang")
    v.require(body, "name")
    v.check()
    return items.set_text(ctx.state, variation["itemId"], body)


_NAME_FIELDS = ("name", "name2", "name3")
_NAME_MAX = 240


async def update_description(ctx: Ctx) -> Any:
    """Texts are stored per item: the route's variation only has to belong to the item."""
    variation = _variation_of(ctx)
    lang = str(ctx.request.path_params["lang"])
    if ctx.state.item_text(variation["itemId"], lang) is None:
        raise not_found(f"Text in language {lang} not found for item {variation['itemId']}")
    body = await ctx.body()
    v = Validator()
    for field in items.TEXT_FIELDS:
        value = body.get(field)
        if field in body and not isinstance(value, str):
            v.add(field, f"The {field} must be a string.")
        elif field in _NAME_FIELDS and isinstance(value, str) and len(value) > _NAME_MAX:
            v.add(field, f"The {field} may not be greater than {_NAME_MAX} characters.")
    if "name" in body and body["name"] == "":
        v.add("name", "The name field is required.")
    v.check()
    return items.set_text(ctx.state, variation["itemId"], {**body, "lang": lang})


# -- attributes --------------------------------------------------------------------------------


def _render_attribute(ctx: Ctx, attribute: Record, with_: set[str]) -> Record:
    out = public(attribute)
    if "names" in with_:
        out["attributeNames"] = [dict(n) for n in attribute["_names"]]
    if "values" in with_:
        out["values"] = [public(v) for v in ctx.state.attribute_values.values() if v["attributeId"] == attribute["id"]]
    return out


async def list_attributes(ctx: Ctx) -> Any:
    since = time_param(ctx.query, "updatedAt")
    with_ = with_values(ctx.query)
    entries = [
        _render_attribute(ctx, a, with_)
        for a in ctx.state.attributes.values()
        if since is None or parse_stored(a["updatedAt"]) >= since
    ]
    return paginate(entries, ctx.query, clamp=ctx.config.clamp_pages)


async def get_attribute(ctx: Ctx) -> Any:
    attribute = lookup(ctx.state.attributes, ctx.path_int("attribute_id"), "Attribute")
    return _render_attribute(ctx, attribute, with_values(ctx.query))


async def create_attribute(ctx: Ctx) -> Any:
    body = await ctx.body()
    v = Validator()
    v.require(body, "backendName")
    v.check()
    attribute_id = ctx.state.next_id("attribute")
    attribute: Record = {
        "id": attribute_id,
        "backendName": str(body["backendName"]),
        "position": int(body.get("position", 0) or 0),
        "isSurchargePercental": bool(body.get("isSurchargePercental", False)),
        "isLinkableToImage": bool(body.get("isLinkableToImage", False)),
        "typeOfSelectionInOnlineStore": str(body.get("typeOfSelectionInOnlineStore", "dropdown")),
        "isGroupable": bool(body.get("isGroupable", False)),
        "updatedAt": ctx.state.now(),
        "_names": [],
    }
    ctx.state.attributes[attribute_id] = attribute
    return public(attribute)


async def attribute_names(ctx: Ctx) -> Any:
    attribute = lookup(ctx.state.attributes, ctx.path_int("attribute_id"), "Attribute")
    return [dict(n) for n in attribute["_names"]]


async def add_attribute_name(ctx: Ctx) -> Any:
    attribute = lookup(ctx.state.attributes, ctx.path_int("attribute_id"), "Attribute")
    return await _set_name(ctx, attribute, "attributeId")


async def _set_name(ctx: Ctx, record: dict[str, Any], id_field: str) -> dict[str, Any]:
    """Add or replace the name in one language of an attribute or attribute value."""
    body = await ctx.body()
    v = Validator()
    v.require(body, "lang")
    v.require(body, "name")
    v.check()
    entry = {id_field: record["id"], "lang": str(body["lang"]), "name": str(body["name"])}
    record["_names"] = [n for n in record["_names"] if n["lang"] != entry["lang"]] + [entry]
    record["updatedAt"] = ctx.state.now()
    return entry


async def attribute_values(ctx: Ctx) -> Any:
    attribute = lookup(ctx.state.attributes, ctx.path_int("attribute_id"), "Attribute")
    with_ = with_values(ctx.query)
    entries = []
    for value in ctx.state.attribute_values.values():
        if value["attributeId"] == attribute["id"]:
            out = public(value)
            if "names" in with_ or "valueNames" in with_:
                out["valueNames"] = [dict(n) for n in value["_names"]]
            entries.append(out)
    return paginate(entries, ctx.query, clamp=ctx.config.clamp_pages)


async def create_attribute_value(ctx: Ctx) -> Any:
    attribute = lookup(ctx.state.attributes, ctx.path_int("attribute_id"), "Attribute")
    body = await ctx.body()
    v = Validator()
    v.require(body, "backendName")
    v.check()
    value_id = ctx.state.next_id("attribute_value")
    value: Record = {
        "id": value_id,
        "attributeId": attribute["id"],
        "backendName": str(body["backendName"]),
        "position": int(body.get("position", 0) or 0),
        "image": "",
        "comment": str(body.get("comment", "")),
        "updatedAt": ctx.state.now(),
        "_names": [],
    }
    ctx.state.attribute_values[value_id] = value
    return public(value)


async def value_names(ctx: Ctx) -> Any:
    value = lookup(ctx.state.attribute_values, ctx.path_int("value_id"), "Attribute value")
    return [dict(n) for n in value["_names"]]


async def add_value_name(ctx: Ctx) -> Any:
    value = lookup(ctx.state.attribute_values, ctx.path_int("value_id"), "Attribute value")
    return await _set_name(ctx, value, "valueId")


_V = "/rest/items/{item_id:int}/variations/{variation_id:int}"
ROUTES: list[RouteSpec] = [
    ("GET", "/rest/items", list_items),
    ("POST", "/rest/items", create_item),
    ("GET", "/rest/items/variations", list_variations),
    ("GET", "/rest/items/attributes", list_attributes),
    ("POST", "/rest/items/attributes", create_attribute),
    ("GET", "/rest/items/attributes/{attribute_id:int}", get_attribute),
    ("GET", "/rest/items/attributes/{attribute_id:int}/names", attribute_names),
    ("POST", "/rest/items/attributes/{attribute_id:int}/names", add_attribute_name),
    ("GET", "/rest/items/attributes/{attribute_id:int}/values", attribute_values),
    ("POST", "/rest/items/attributes/{attribute_id:int}/values", create_attribute_value),
    ("GET", "/rest/items/attribute_values/{value_id:int}/names", value_names),
    ("POST", "/rest/items/attribute_values/{value_id:int}/names", add_value_name),
    ("GET", "/rest/items/{item_id:int}", get_item),
    ("PUT", "/rest/items/{item_id:int}", update_item),
    ("GET", "/rest/items/{item_id:int}/variations", item_variations),
    ("POST", "/rest/items/{item_id:int}/variations", create_variation),
    ("GET", _V, get_variation),
    ("PUT", _V, update_variation),
    ("GET", f"{_V}/stock", variation_stock),
    ("GET", f"{_V}/variation_barcodes", _relation_list("variationBarcodes")),
    ("POST", f"{_V}/variation_barcodes", add_barcode),
    ("PUT", f"{_V}/variation_barcodes/{{barcode_id:int}}", update_barcode),
    ("DELETE", f"{_V}/variation_barcodes/{{barcode_id:int}}", delete_barcode),
    ("GET", f"{_V}/variation_sales_prices", _relation_list("variationSalesPrices")),
    ("POST", f"{_V}/variation_sales_prices", add_sales_price),
    ("PUT", f"{_V}/variation_sales_prices/{{price_id:int}}", update_sales_price),
    ("GET", f"{_V}/variation_categories", _relation_list("variationCategories")),
    ("POST", f"{_V}/variation_categories", add_category),
    ("DELETE", f"{_V}/variation_categories/{{category_id:int}}", delete_category),
    ("GET", f"{_V}/variation_clients", _relation_list("variationClients")),
    ("POST", f"{_V}/variation_clients", add_client),
    ("DELETE", f"{_V}/variation_clients/{{plenty_id:int}}", delete_client),
    ("GET", f"{_V}/descriptions", descriptions),
    ("POST", f"{_V}/descriptions", add_description),
    ("PUT", f"{_V}/descriptions/{{lang}}", update_description),
]
