"""Turn a system-neutral :class:`SeedCatalog` into PlentyONE records.

* warehouses: one per ``SeedLocation``, ids 1, 2, ... in catalog order (an existing warehouse with
  that id, e.g. the one of ``PlentyState.minimal()``, is renamed);
* products: variation ``number`` = SKU. A configurable parent becomes an item whose variations are its
  children (the first child is the main variation); every other product becomes an item with one main
  variation. ``magento_only`` products are skipped;
* categories with ``details`` per language, attributes with names and values;
* customers (not ``magento_only``) become contacts with addresses; B2B customers get an account and
  a VAT id address option;
* orders: only ``origin == "plenty"`` by default (marketplace orders Magento does not have); Magento
  orders are left for the sync to export unless ``include_magento_orders`` is set. Open orders reserve
  stock, completed ones count as booked out already (seed stock is the stock after them).
"""

from __future__ import annotations

import re
from typing import Any

from plentysync.sandbox.catalog import SeedAddress, SeedCatalog, SeedCustomer, SeedOrder, SeedProduct
from plentysync.sandbox.plenty import contacts, items, orders, payments
from plentysync.sandbox.plenty.reference import PAYMENT_METHODS, add_warehouse, country_id
from plentysync.sandbox.plenty.state import PlentyState, Record
from plentysync.sandbox.plenty.timefmt import w3c

_CLASS_IDS = {"general": 1, "wholesale": 2, "retailer": 3}
_STATUS_IDS = {"pending": 3.0, "processing": 5.0, "complete": 7.0, "canceled": 8.0, "holded": 1.0}
_PAYMENT_IDS = {"banktransfer": 2, "paypal_express": 6000, "checkmo": 6001, "free": 6002}
_MARKETPLACE_REFERRER = 4.01
_SHOP_REFERRER = 1.0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_catalog(state: PlentyState, catalog: SeedCatalog, *, include_magento_orders: bool = False) -> None:
    keys = state.seed_keys
    for index, location in enumerate(catalog.locations, start=1):
        add_warehouse(state, index, location.name)
        keys.setdefault("warehouse", {})[location.key] = index
    _load_categories(state, catalog)
    _load_attributes(state, catalog)
    for product in catalog.products:
        if product.presence != "magento_only" and product.parent_sku is None:
            _load_product(state, catalog, product)
    for customer in catalog.customers:
        if customer.presence != "magento_only":
            _load_customer(state, catalog, customer)
    for order in catalog.orders:
        if order.origin == "plenty" or include_magento_orders:
            _load_order(state, order)


def _load_categories(state: PlentyState, catalog: SeedCatalog) -> None:
    ids = state.seed_keys.setdefault("category", {})
    for seed in catalog.categories:
        ids[seed.key] = state.next_id("category", 16)
    levels: dict[str, int] = {}
    for seed in catalog.categories:
        parent = seed.parent_key
        levels[seed.key] = levels.get(parent, 0) + 1 if parent else 1
        category_id = ids[seed.key]
        now = state.now()
        state.categories[category_id] = {
            "id": category_id,
            "parentCategoryId": ids.get(parent) if parent else None,
            "level": levels[seed.key],
            "type": "item",
            "linklist": "Y",
            "right": "all",
            "sitemap": "Y",
            "updatedAt": now,
            "details": [
                {
                    "categoryId": category_id,
                    "lang": lang,
                    "name": name,
                    "nameUrl": _slug(name),
                    "description": "",
                    "shortDescription": "",
                    "metaTitle": "",
                    "position": str(seed.position),
                    "updatedAt": now,
                    "plentyId": state.plenty_id,
                }
                for lang, name in seed.names.items()
            ],
            "clients": [{"plentyId": state.plenty_id}],
        }


def _load_attributes(state: PlentyState, catalog: SeedCatalog) -> None:
    attribute_ids = state.seed_keys.setdefault("attribute", {})
    value_ids = state.seed_keys.setdefault("attribute_value", {})
    for position, seed in enumerate(catalog.attributes):
        attribute_id = state.next_id("attribute")
        attribute_ids[seed.code] = attribute_id
        now = state.now()
        state.attributes[attribute_id] = {
            "id": attribute_id,
            "backendName": seed.code,
            "position": position,
            "isSurchargePercental": False,
            "isLinkableToImage": False,
            "typeOfSelectionInOnlineStore": "dropdown",
            "isGroupable": False,
            "updatedAt": now,
            "_names": [{"attributeId": attribute_id, "lang": k, "name": v} for k, v in seed.labels.items()],
        }
        for index, labels in enumerate(seed.values):
            value_id = state.next_id("attribute_value")
            value_ids[f"{seed.code}:{index}"] = value_id
            backend = labels.get("admin") or next(iter(labels.values()), str(index))
            state.attribute_values[value_id] = {
                "id": value_id,
                "attributeId": attribute_id,
                "backendName": backend,
                "position": index,
                "image": "",
                "comment": "",
                "updatedAt": now,
                "_names": [{"valueId": value_id, "lang": k, "name": v} for k, v in labels.items() if k != "admin"],
            }


def _variation_body(state: PlentyState, catalog: SeedCatalog, product: SeedProduct) -> dict[str, Any]:
    warehouse_ids = state.seed_keys.get("warehouse", {})
    first_stock = next((warehouse_ids[s.location] for s in product.stock if s.location in warehouse_ids), None)
    body: dict[str, Any] = {
        "number": product.sku,
        "name": product.names.get(catalog.languages[0], next(iter(product.names.values()), product.sku)),
        "isActive": product.enabled,
        "weightG": round(product.weight * 1000),
        "weightNetG": round(product.weight * 1000),
        "mainWarehouseId": first_stock or min(state.warehouses, default=1),
        "bundleType": "bundle" if product.type == "bundle" else None,
        "variationSalesPrices": [{"salesPriceId": 1, "price": product.price}],
        "variationClients": [{"plentyId": state.plenty_id}],
        "variationCategories": [
            {"categoryId": state.seed_keys["category"][key]}
            for key in product.category_keys
            if key in state.seed_keys.get("category", {})
        ],
        "variationBarcodes": [{"barcodeId": 1, "code": product.ean}] if product.ean else [],
        "variationAttributeValues": [
            {"valueId": state.seed_keys["attribute_value"][f"{code}:{index}"]}
            for code, index in product.attribute_values.items()
            if f"{code}:{index}" in state.seed_keys.get("attribute_value", {})
        ],
    }
    return body


def _load_product(state: PlentyState, catalog: SeedCatalog, product: SeedProduct) -> None:
    when = w3c(product.updated_at) if product.updated_at else None
    item = items.new_item(state, {}, when=when)
    state.seed_keys.setdefault("item", {})[product.sku] = item["id"]
    for lang, name in product.names.items():
        items.set_text(
            state,
            item["id"],
            {"lang": lang, "name": name, "description": product.description.get(lang, ""), "urlPath": _slug(name)},
        )
    if when:
        item["updatedAt"] = when
    members = [product]
    if product.type == "configurable":
        members = [p for p in catalog.products if p.parent_sku == product.sku and p.presence != "magento_only"]
    for member in members:
        variation = items.new_variation(state, item, _variation_body(state, catalog, member), when=when)
        for seed_stock in member.stock:
            warehouse_id = state.seed_keys.get("warehouse", {}).get(seed_stock.location)
            if warehouse_id is not None:
                key = f"{variation['id']}:{warehouse_id}:0"
                state.stock[key] = state.stock.get(key, 0.0) + float(seed_stock.quantity)
                state.stock_updated[f"{variation['id']}:{warehouse_id}"] = when or state.now()


def _address_body(address: SeedAddress, email: str | None) -> dict[str, Any]:
    options = []
    if email:
        options.append({"typeId": 5, "value": email})
    if address.phone:
        options.append({"typeId": 4, "value": address.phone})
    if address.vat_id:
        options.append({"typeId": 1, "value": address.vat_id})
    return {
        "name1": address.company or "",
        "name2": address.first_name,
        "name3": address.last_name,
        "address1": address.street,
        "address2": address.house_number,
        "postalCode": address.postcode,
        "town": address.city,
        "countryId": country_id(address.country),
        "options": options,
    }


def _load_customer(state: PlentyState, catalog: SeedCatalog, customer: SeedCustomer) -> None:
    contact = contacts.create_contact(
        state,
        {
            "typeId": 1,
            "referrerId": _SHOP_REFERRER,
            "plentyId": state.plenty_id,
            "firstName": customer.first_name,
            "lastName": customer.last_name,
            "gender": customer.gender,
            "lang": customer.language,
            "classId": _CLASS_IDS.get(customer.group, 1),
            "email": customer.email,
        },
    )
    state.seed_keys.setdefault("customer", {})[customer.key] = contact["id"]
    for index, address in enumerate(customer.addresses):
        body = _address_body(address, customer.email)
        if customer.b2b and customer.vat_id and not address.vat_id:
            body["options"].append({"typeId": 1, "value": customer.vat_id})
        types = [t for t, flag in ((1, address.is_default_billing), (2, address.is_default_shipping)) if flag]
        for type_id in types or ([1] if index == 0 else [2]):
            contacts.add_address(state, contact["id"], body, type_id, is_primary=bool(types))
    if customer.b2b:
        account = contacts.create_account(
            state, {"companyName": customer.company or customer.last_name, "taxIdNumber": customer.vat_id or ""}
        )
        contacts.link_account(state, contact, account["id"])


def _load_order(state: PlentyState, seed: SeedOrder) -> None:
    contact_id = state.seed_keys.get("customer", {}).get(seed.customer_key or "")
    billing = contacts.add_address(state, contact_id, _address_body(seed.billing, seed.email), 1)
    shipping = contacts.add_address(state, contact_id, _address_body(seed.shipping, seed.email), 2)
    lines: list[dict[str, Any]] = []
    for line in seed.lines:
        variation = state.variation_by_number(line.sku)
        lines.append(
            {
                "typeId": 1 if variation else 9,
                "itemVariationId": variation["id"] if variation else None,
                "quantity": line.quantity,
                "orderItemName": line.name,
                "vatRate": line.tax_rate,
                "amounts": [{"currency": seed.currency, "priceOriginalGross": line.unit_price_gross}],
            }
        )
    if seed.shipping_gross:
        lines.append(
            {
                "typeId": 6,
                "quantity": 1,
                "orderItemName": "Shipping costs",
                "vatRate": 19.0,
                "amounts": [{"currency": seed.currency, "priceOriginalGross": seed.shipping_gross}],
            }
        )
    if seed.discount_gross:
        lines.append(
            {
                "typeId": 4,
                "quantity": 1,
                "orderItemName": seed.coupon_code or "Discount",
                "vatRate": 19.0,
                "amounts": [{"currency": seed.currency, "priceOriginalGross": -abs(seed.discount_gross)}],
            }
        )
    properties = [
        {"typeId": 7, "value": seed.number},
        {"typeId": 3, "value": str(_PAYMENT_IDS.get(seed.payment_method, PAYMENT_METHODS[0][0]))},
        {"typeId": 2, "value": "6"},
        {"typeId": 6, "value": "de"},
    ]
    if seed.coupon_code:
        properties.append({"typeId": 18, "value": seed.coupon_code})
    created = w3c(seed.created_at) if seed.created_at else None
    status = _STATUS_IDS.get(seed.status, 3.0)
    body: dict[str, Any] = {
        "typeId": 1,
        "plentyId": state.plenty_id,
        "statusId": status if status != 8.0 else 3.0,
        "referrerId": _MARKETPLACE_REFERRER if seed.origin == "plenty" else _SHOP_REFERRER,
        "properties": properties,
        "addressRelations": [{"typeId": 1, "addressId": billing["id"]}, {"typeId": 2, "addressId": shipping["id"]}],
        "relations": (
            [{"referenceType": "contact", "referenceId": contact_id, "relation": "receiver"}] if contact_id else []
        ),
        "dates": [{"typeId": 2, "date": created}] if created else [],
        "orderItems": lines,
    }
    order = orders.create_order(state, body, when=created)
    if status == 8.0:
        orders.change_status(state, order, status)
    state.seed_keys.setdefault("order", {})[seed.number] = order["id"]
    if seed.status in ("processing", "complete"):
        _pay(state, order, seed)


def _pay(state: PlentyState, order: Record, seed: SeedOrder) -> None:
    payment = payments.create_payment(
        state,
        {
            "amount": order["amounts"][0]["invoiceTotal"],
            "exchangeRatio": 1,
            "mopId": _PAYMENT_IDS.get(seed.payment_method, PAYMENT_METHODS[0][0]),
            "currency": seed.currency,
            "type": "credit",
            "status": 2,
            "transactionType": 2,
            "properties": [{"typeId": 1, "value": f"TX-{seed.number}"}],
        },
    )
    payments.link_to_order(state, payment, order)
