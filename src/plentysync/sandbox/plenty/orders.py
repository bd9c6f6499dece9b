"""Orders: creation with computed amounts and stock reservation, status changes that book stock out,
payment status recomputation (notes §9, §10)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty import stock
from plentysync.sandbox.plenty.contacts import render_address
from plentysync.sandbox.plenty.errors import Validator
from plentysync.sandbox.plenty.state import PlentyState, Record, public

SALES_ORDER = 1
VARIATION_ITEM = 1
SHIPPING_ITEM = 6
BOOKED_STATUS = 7.0
CANCELED_STATUS = 8.0
DEFAULT_VAT_RATES = (19.0, 7.0, 0.0, 0.0)
# Payment statuses that do not count as money received.
_VOID_PAYMENT_STATUSES = {5, 6, 8, 11}


def status_name(state: PlentyState, status_id: float) -> str:
    for status in state.statuses:
        if float(status["statusId"]) == status_id:
            names = status.get("names") or {}
            return str(names.get("de") or names.get("en") or "")
    return f"[{status_id:g}]"


def validate_order(state: PlentyState, body: dict[str, Any]) -> None:
    v = Validator()
    v.require(body, "typeId")
    v.require(body, "plentyId")
    for index, item in enumerate(body.get("orderItems") or []):
        path = f"orderItems.{index}."
        if not isinstance(item, dict):
            v.add(path.rstrip("."), "The order item must be an object.")
            continue
        v.require(item, "typeId", path)
        if v.require(item, "quantity", path):
            v.number(item, "quantity", path)
        if item.get("typeId") == VARIATION_ITEM:
            variation_id = item.get("itemVariationId")
            if not isinstance(variation_id, int) or variation_id not in state.variations:
                v.add(f"{path}itemVariationId", "The selected item variation id is invalid.")
    v.check()


def _amount(state: PlentyState, item: Record, raw: dict[str, Any], vat_rate: float) -> Record:
    original = float(raw.get("priceOriginalGross", raw.get("priceGross", 0)) or 0)
    surcharge = float(raw.get("surcharge", 0) or 0)
    discount = float(raw.get("discount", 0) or 0)
    is_percentage = bool(raw.get("isPercentage", False))
    gross = original * (100 - discount) / 100 + surcharge if is_percentage else original + surcharge - discount
    net = gross / (1 + vat_rate / 100)
    return {
        "id": state.next_id("order_item_amount"),
        "orderItemId": item["id"],
        "isSystemCurrency": bool(raw.get("isSystemCurrency", True)),
        "currency": str(raw.get("currency", "EUR")),
        "exchangeRate": float(raw.get("exchangeRate", 1) or 1),
        "purchasePrice": float(raw.get("purchasePrice", 0) or 0),
        "priceOriginalGross": round(original, 4),
        "priceOriginalNet": round(original / (1 + vat_rate / 100), 4),
        "priceGross": round(gross, 4),
        "priceNet": round(net, 4),
        "surcharge": surcharge,
        "discount": discount,
        "isPercentage": is_percentage,
    }


def _order_item(state: PlentyState, order_id: int, raw: dict[str, Any], position: int) -> Record:
    variation_id = raw.get("itemVariationId")
    variation = state.variations.get(variation_id) if isinstance(variation_id, int) else None
    vat_field = int(raw.get("vatField", 0) or 0)
    vat_rate = float(raw["vatRate"]) if raw.get("vatRate") is not None else DEFAULT_VAT_RATES[vat_field % 4]
    properties = [
        {"id": state.next_id("order_item_property"), "typeId": int(p["typeId"]), "value": str(p["value"])}
        for p in raw.get("properties") or []
    ]
    warehouse_id = raw.get("warehouseId")
    for prop in properties:
        if prop["typeId"] == 1:
            warehouse_id = int(str(prop["value"]))
    if warehouse_id is None and variation is not None:
        warehouse_id = variation.get("mainWarehouseId")
    item: Record = {
        "id": state.next_id("order_item"),
        "orderId": order_id,
        "typeId": int(raw["typeId"]),
        "referrerId": float(raw.get("referrerId", 0) or 0),
        "itemVariationId": variation_id if variation is not None else 0,
        "quantity": float(raw["quantity"]),
        "orderItemName": str(raw.get("orderItemName", variation.get("name", "") if variation else "")),
        "attributeValues": raw.get("attributeValues"),
        "shippingProfileId": int(raw.get("shippingProfileId", 0) or 0),
        "countryVatId": int(raw.get("countryVatId", 1) or 1),
        "vatField": vat_field,
        "vatRate": vat_rate,
        "position": str(position),
        "warehouseId": int(warehouse_id) if warehouse_id is not None else None,
        "createdAt": state.now(),
        "updatedAt": state.now(),
    }
    for prop in properties:
        prop["orderItemId"] = item["id"]
    amounts = raw.get("amounts") or [{}]
    item["amounts"] = [_amount(state, item, a, vat_rate) for a in amounts]
    item["properties"] = properties
    item["dates"] = []
    item["references"] = []
    return item


def compute_amounts(order: Record, paid: float) -> None:
    """Recompute the order's system-currency totals from its items."""
    gross = net = shipping_gross = shipping_net = 0.0
    vats: dict[float, dict[str, float]] = {}
    currency = "EUR"
    for item in order["orderItems"]:
        amount = next((a for a in item["amounts"] if a["isSystemCurrency"]), item["amounts"][0])
        currency = amount["currency"]
        line_gross = amount["priceGross"] * item["quantity"]
        line_net = amount["priceNet"] * item["quantity"]
        gross += line_gross
        net += line_net
        if item["typeId"] == SHIPPING_ITEM:
            shipping_gross += line_gross
            shipping_net += line_net
        bucket = vats.setdefault(item["vatRate"], {"gross": 0.0, "net": 0.0, "field": item["vatField"]})
        bucket["gross"] += line_gross
        bucket["net"] += line_net
    previous = order.get("amounts") or [{}]
    order["amounts"] = [
        {
            "id": previous[0].get("id", order["id"]),
            "orderId": order["id"],
            "isSystemCurrency": True,
            "isNet": False,
            "currency": currency,
            "exchangeRate": 1,
            "netTotal": round(net, 2),
            "grossTotal": round(gross, 2),
            "vatTotal": round(gross - net, 2),
            "invoiceTotal": round(gross, 2),
            "paidAmount": round(paid, 2),
            "giftCardAmount": 0,
            "prepaidAmount": 0,
            "shippingCostsGross": round(shipping_gross, 2),
            "shippingCostsNet": round(shipping_net, 2),
            "taxlessAmount": 0,
            "vats": [
                {
                    "countryVatId": 1,
                    "vatField": int(b["field"]),
                    "vatRate": rate,
                    "value": round(b["gross"] - b["net"], 2),
                    "netTotal": round(b["net"], 2),
                    "grossTotal": round(b["gross"], 2),
                }
                for rate, b in sorted(vats.items())
            ],
        }
    ]


def _set_property(state: PlentyState, order: Record, type_id: int, value: Any) -> None:
    for prop in order["properties"]:
        if prop["typeId"] == type_id:
            prop["value"] = str(value)
            return
    order["properties"].append(
        {"id": state.next_id("order_property"), "orderId": order["id"], "typeId": type_id, "value": str(value)}
    )


def _set_date(state: PlentyState, order: Record, type_id: int, when: str) -> None:
    for date in order["dates"]:
        if date["typeId"] == type_id:
            date["date"] = when
            return
    order["dates"].append({"id": state.next_id("order_date"), "orderId": order["id"], "typeId": type_id, "date": when})


def _relation_id(order: Record, reference_type: str, relation: str) -> int | None:
    for rel in order["relations"]:
        if rel["referenceType"] == reference_type and rel["relation"] == relation:
            return int(rel["referenceId"])
    return None


def create_order(state: PlentyState, body: dict[str, Any], *, when: str | None = None) -> Record:
    """Validate and store an order; a sales order below status 7 reserves its variations' stock."""
    validate_order(state, body)
    now = when or state.now()
    order_id = state.next_id("order", 100)
    status_id = float(body.get("statusId", 1.0) or 1.0)
    order: Record = {
        "id": order_id,
        "typeId": int(body["typeId"]),
        "statusId": status_id,
        "statusName": status_name(state, status_id),
        "ownerId": body.get("ownerId"),
        "referrerId": float(body.get("referrerId", 0.0) or 0.0),
        "createdAt": now,
        "updatedAt": now,
        "plentyId": int(body["plentyId"]),
        "locationId": 1,
        "roundTotalsOnly": True,
        "numberOfDecimals": 2,
        "lockStatus": str(body.get("lockStatus", "unlocked")),
        "isLocked": False,
        "hasTaxRelevantDocuments": False,
        "hasDeliveryOrders": False,
        "legacyOrderType": "order",
        "properties": [],
        "dates": [],
        "relations": [],
        "addressRelations": [],
        "orderReferences": list(body.get("orderReferences") or []),
        "_stock": "none",
    }
    for prop in body.get("properties") or []:
        _set_property(state, order, int(prop["typeId"]), prop["value"])
    if not any(p["typeId"] == 4 for p in order["properties"]):
        _set_property(state, order, 4, "unpaid")
    for date in body.get("dates") or []:
        _set_date(state, order, int(date["typeId"]), str(date["date"]))
    _set_date(state, order, 2, next((d["date"] for d in order["dates"] if d["typeId"] == 2), now))
    _set_date(state, order, 4, now)
    for rel in body.get("relations") or []:
        order["relations"].append(
            {
                "orderId": order_id,
                "referenceType": str(rel["referenceType"]),
                "referenceId": int(rel["referenceId"]),
                "relation": str(rel["relation"]),
            }
        )
    for rel in body.get("addressRelations") or []:
        order["addressRelations"].append(
            {
                "id": state.next_id("order_address_relation"),
                "orderId": order_id,
                "typeId": int(rel["typeId"]),
                "addressId": int(rel["addressId"]),
            }
        )
    order["orderItems"] = [_order_item(state, order_id, raw, i) for i, raw in enumerate(body.get("orderItems") or [])]
    _fill_relation_ids(state, order)
    compute_amounts(order, 0.0)
    state.orders[order_id] = order
    if order["typeId"] == SALES_ORDER:
        if status_id < BOOKED_STATUS:
            _reserve(state, order, +1)
            order["_stock"] = "reserved"
        elif status_id < CANCELED_STATUS:
            order["_stock"] = "booked"
    return order


def _fill_relation_ids(state: PlentyState, order: Record) -> None:
    warehouse = _relation_id(order, "warehouse", "sender")
    if warehouse is None:
        warehouse = next((i["warehouseId"] for i in order["orderItems"] if i["warehouseId"] is not None), None)
        if warehouse is None and state.warehouses:
            warehouse = min(state.warehouses)
        if warehouse is not None:
            order["relations"].append(
                {"orderId": order["id"], "referenceType": "warehouse", "referenceId": warehouse, "relation": "sender"}
            )
    order["contactSenderId"] = _relation_id(order, "contact", "sender")
    order["contactReceiverId"] = _relation_id(order, "contact", "receiver")
    order["warehouseSenderId"] = _relation_id(order, "warehouse", "sender")
    order["warehouseReceiverId"] = _relation_id(order, "warehouse", "receiver")


def _stock_lines(state: PlentyState, order: Record) -> list[tuple[int, int, float]]:
    lines = []
    for item in order["orderItems"]:
        if item["typeId"] != VARIATION_ITEM or item["itemVariationId"] not in state.variations:
            continue
        warehouse = item["warehouseId"] or order.get("warehouseSenderId") or min(state.warehouses, default=1)
        lines.append((int(item["itemVariationId"]), int(warehouse), float(item["quantity"])))
    return lines


def _reserve(state: PlentyState, order: Record, sign: int) -> None:
    for variation_id, warehouse_id, quantity in _stock_lines(state, order):
        stock.reserve(state, variation_id, warehouse_id, sign * quantity)


def _book_out(state: PlentyState, order: Record) -> None:
    """Outgoing items booked: the reservation turns into a physical decrease (reason 201) at location 0."""
    for variation_id, warehouse_id, quantity in _stock_lines(state, order):
        stock.reserve(state, variation_id, warehouse_id, -quantity)
        stock.book_delta(
            state,
            variation_id,
            warehouse_id,
            0,
            -quantity,
            stock.ORDER_OUTGOING_REASON,
            {"processRowId": order["id"], "processRowType": 1, "_orderId": order["id"]},
        )


def change_status(state: PlentyState, order: Record, status_id: float) -> None:
    order["statusId"] = status_id
    order["statusName"] = status_name(state, status_id)
    if order["typeId"] != SALES_ORDER:
        return
    if BOOKED_STATUS <= status_id < CANCELED_STATUS and order["_stock"] == "reserved":
        _book_out(state, order)
        order["_stock"] = "booked"
        _set_date(state, order, 5, state.now())
    elif CANCELED_STATUS <= status_id < CANCELED_STATUS + 1 and order["_stock"] == "reserved":
        _reserve(state, order, -1)
        order["_stock"] = "released"
    elif status_id < BOOKED_STATUS and order["_stock"] == "released":
        _reserve(state, order, +1)
        order["_stock"] = "reserved"


def update_order(state: PlentyState, order: Record, body: dict[str, Any]) -> None:
    if body.get("statusId") is not None:
        change_status(state, order, float(body["statusId"]))
    for prop in body.get("properties") or []:
        _set_property(state, order, int(prop["typeId"]), prop["value"])
    if body.get("ownerId") is not None:
        order["ownerId"] = body["ownerId"]
    for rel in body.get("addressRelations") or []:
        order["addressRelations"] = [r for r in order["addressRelations"] if r["typeId"] != int(rel["typeId"])]
        order["addressRelations"].append(
            {
                "id": state.next_id("order_address_relation"),
                "orderId": order["id"],
                "typeId": int(rel["typeId"]),
                "addressId": int(rel["addressId"]),
            }
        )
    touch(state, order)


def touch(state: PlentyState, order: Record) -> None:
    now = state.now()
    order["updatedAt"] = now
    _set_date(state, order, 4, now)


def paid_amount(state: PlentyState, order_id: int) -> float:
    total = 0.0
    for payment in state.payments_of_order(order_id):
        if payment.get("deleted") or int(payment.get("status", 0)) in _VOID_PAYMENT_STATUSES:
            continue
        sign = -1 if payment.get("type") == "debit" else 1
        total += sign * float(payment["amount"])
    return total


def payment_status(paid: float, invoice_total: float) -> str:
    if paid <= 0.005:
        return "unpaid"
    if paid < invoice_total - 0.005:
        return "partlyPaid"
    if paid <= invoice_total + 0.005:
        return "fullyPaid"
    return "overpaid"


def recompute_payments(state: PlentyState, order: Record) -> None:
    """Order property 4 and ``amounts.paidAmount`` follow the linked payments (gotcha #18)."""
    paid = paid_amount(state, order["id"])
    compute_amounts(order, paid)
    status = payment_status(paid, order["amounts"][0]["invoiceTotal"])
    _set_property(state, order, 4, status)
    if status in ("fullyPaid", "overpaid"):
        _set_date(state, order, 3, state.now())
    touch(state, order)


def render_order(state: PlentyState, order: Record, with_: set[str]) -> Record:
    out = public(order)
    if "addresses" in with_:
        out["addresses"] = []
        for rel in order["addressRelations"]:
            address = state.addresses.get(rel["addressId"])
            if address is not None:
                entry = render_address(address)
                entry["pivot"] = {"orderId": order["id"], "addressId": rel["addressId"], "typeId": rel["typeId"]}
                out["addresses"].append(entry)
    if "payments" in with_:
        out["payments"] = [public(p) for p in state.payments_of_order(order["id"])]
    if "shippingPackages" in with_:
        out["shippingPackages"] = [public(p) for p in state.shipping_packages.values() if p["orderId"] == order["id"]]
    if "comments" in with_:
        out["comments"] = [
            public(c)
            for c in state.comments.values()
            if c["referenceType"] == "order" and c["referenceValue"] == order["id"]
        ]
    if "orderItems.variation" in with_:
        for item in out["orderItems"]:
            variation = state.variations.get(item["itemVariationId"])
            item["variation"] = public(variation) if variation else None
    return out
