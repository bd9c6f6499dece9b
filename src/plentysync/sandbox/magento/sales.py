"""Orders and their documents: building orders (configurable parent/child lines, shipping only in
``shipping_assignments``), invoice, ship (MSI source deduction and reservation compensation),
refund, cancel, hold, comments, and the state/status transitions between them."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.magento.errors import bad_request
from plentysync.sandbox.magento.state import DEFAULT_SOURCE, MagentoState, Record, clean_number

STATUS_OF_STATE = {
    "new": "pending",
    "processing": "processing",
    "complete": "complete",
    "closed": "closed",
    "canceled": "canceled",
    "holded": "holded",
}
PAYMENT_TITLES = {
    "checkmo": "Check / Money order",
    "banktransfer": "Bank Transfer Payment",
    "paypal_express": "PayPal Express Checkout",
    "free": "No Payment Information Required",
}
STORE_NAME = "Main Website\nMain Website Store\n"
REFUNDABLE_METHODS = frozenset({"paypal_express"})
"""Payment methods whose ``canRefund()`` is true (gateways); offline methods are refunded per order."""
INVOICE_PAID = 2


def _money(value: float) -> float | int:
    return clean_number(round(float(value), 4))


def _f(record: Record, key: str) -> float:
    value = record.get(key)
    return float(value) if value is not None else 0.0


def _parent_of(state: MagentoState, product: Record) -> Record | None:
    for candidate in state.products.values():
        links = (candidate.get("extension_attributes") or {}).get("configurable_product_links") or []
        if candidate.get("type_id") == "configurable" and product["id"] in links:
            return candidate
    return None


def _line(item_id: int, order_id: int, store_id: int, now: str) -> Record:
    return {
        "item_id": item_id,
        "order_id": order_id,
        "store_id": store_id,
        "created_at": now,
        "updated_at": now,
        "parent_item_id": None,
        "qty_invoiced": 0,
        "qty_shipped": 0,
        "qty_refunded": 0,
        "qty_canceled": 0,
        "qty_backordered": None,
        "amount_refunded": 0,
        "row_invoiced": 0,
        "tax_invoiced": 0,
        "discount_invoiced": 0,
        "free_shipping": 0,
        "no_discount": 0,
        "is_qty_decimal": 0,
    }


def _address(state: MagentoState, data: Record, kind: str, order_id: int) -> Record:
    out = copy.deepcopy(data)
    out.setdefault("entity_id", state.next_id("order_address"))
    out["address_type"] = kind
    out["parent_id"] = order_id
    return out


def build_order(
    state: MagentoState,
    *,
    increment_id: str | None,
    customer: Record | None,
    email: str,
    billing: Record,
    shipping: Record,
    lines: list[dict[str, Any]],
    shipping_gross: float,
    currency: str,
    payment_method: str,
    status: str,
    coupon_code: str | None,
    discount_gross: float,
    created_at: str,
    store_id: int,
    reserve: bool = True,
) -> Record:
    """Place an order as the checkout would (reservations included), then move it to ``status``
    through the same documents an admin would create."""
    order_id = state.next_id("order")
    if increment_id and increment_id.isdigit():
        state.bump_sequence("order_increment", int(increment_id))
    increment_id = increment_id or f"{state.next_id('order_increment'):09d}"
    items: list[Record] = []
    subtotal = tax = subtotal_incl = weight_total = qty_total = 0.0
    remaining_discount = discount_gross
    for line in lines:
        qty = float(line["qty"])
        gross = float(line["price_gross"])
        rate = float(line.get("tax_rate", 19.0))
        net = round(gross / (1 + rate / 100), 2)
        product = state.product(line["sku"])
        parent = _parent_of(state, product) if product else None
        item = _line(state.next_id("order_item"), order_id, store_id, created_at)
        line_discount = min(remaining_discount, gross * qty)
        remaining_discount -= line_discount
        weight = float(product.get("weight") or 0) if product else 0.0
        item.update(
            {
                "product_id": (parent or product or {}).get("id"),
                "product_type": "configurable" if parent else (product or {}).get("type_id", "simple"),
                "sku": line["sku"],
                "name": (parent or {}).get("name") or line["name"],
                "qty_ordered": clean_number(qty),
                "price": _money(net),
                "base_price": _money(net),
                "original_price": _money(net),
                "base_original_price": _money(net),
                "price_incl_tax": _money(gross),
                "base_price_incl_tax": _money(gross),
                "row_total": _money(net * qty),
                "base_row_total": _money(net * qty),
                "row_total_incl_tax": _money(gross * qty),
                "base_row_total_incl_tax": _money(gross * qty),
                "tax_amount": _money((gross - net) * qty),
                "base_tax_amount": _money((gross - net) * qty),
                "tax_percent": clean_number(rate),
                "discount_amount": _money(line_discount),
                "base_discount_amount": _money(line_discount),
                "discount_percent": 0,
                "weight": clean_number(weight),
                "row_weight": clean_number(weight * qty),
                "is_virtual": 1 if (product or {}).get("type_id") == "virtual" else 0,
                "quote_item_id": item["item_id"],
            }
        )
        if parent:
            option_values = {
                str(c["attribute_code"]): c["value"]
                for c in product.get("custom_attributes") or []  # type: ignore[union-attr]
            }
            item["product_option"] = {
                "extension_attributes": {
                    "configurable_item_options": [
                        {"option_id": o["attribute_id"], "option_value": int(v)}
                        for o in parent["extension_attributes"].get("configurable_product_options") or []
                        if (attr := state.attribute_by_id(o["attribute_id"])) is not None
                        and (v := option_values.get(attr["attribute_code"])) is not None
                    ]
                }
            }
        items.append(item)
        if parent and product:
            child = _line(state.next_id("order_item"), order_id, store_id, created_at)
            child.update(
                {
                    "parent_item_id": item["item_id"],
                    "product_id": product["id"],
                    "product_type": product["type_id"],
                    "sku": line["sku"],
                    "name": product["name"],
                    "qty_ordered": clean_number(qty),
                    "price": 0,
                    "base_price": 0,
                    "original_price": 0,
                    "price_incl_tax": None,
                    "row_total": 0,
                    "row_total_incl_tax": None,
                    "tax_amount": 0,
                    "tax_percent": 0,
                    "discount_amount": 0,
                    "weight": clean_number(weight),
                    "row_weight": 0,
                    "is_virtual": 0,
                    "quote_item_id": child["item_id"],
                }
            )
            items.append(child)
        subtotal += net * qty
        subtotal_incl += gross * qty
        tax += (gross - net) * qty
        weight_total += weight * qty
        qty_total += qty
    shipping_net = round(shipping_gross / 1.19, 2)
    shipping_tax = shipping_gross - shipping_net
    grand = subtotal_incl + shipping_gross - discount_gross
    order: Record = {
        "entity_id": order_id,
        "increment_id": increment_id,
        "state": "new",
        "status": "pending",
        "store_id": store_id,
        "store_name": STORE_NAME + str(state.store_views.get(store_id, {}).get("name", "")),
        "created_at": created_at,
        "updated_at": created_at,
        "customer_id": customer["id"] if customer else None,
        "customer_is_guest": 0 if customer else 1,
        "customer_email": email,
        "customer_firstname": customer["firstname"] if customer else billing.get("firstname"),
        "customer_lastname": customer["lastname"] if customer else billing.get("lastname"),
        "customer_group_id": customer["group_id"] if customer else 0,
        "customer_gender": customer.get("gender") if customer else None,
        "customer_taxvat": customer.get("taxvat") if customer else None,
        "customer_note_notify": 1,
        "base_currency_code": currency,
        "order_currency_code": currency,
        "global_currency_code": currency,
        "store_currency_code": currency,
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "store_to_base_rate": 0,
        "store_to_order_rate": 0,
        "subtotal": _money(subtotal),
        "base_subtotal": _money(subtotal),
        "subtotal_incl_tax": _money(subtotal_incl),
        "base_subtotal_incl_tax": _money(subtotal_incl),
        "tax_amount": _money(tax + shipping_tax),
        "base_tax_amount": _money(tax + shipping_tax),
        "shipping_amount": _money(shipping_net),
        "base_shipping_amount": _money(shipping_net),
        "shipping_incl_tax": _money(shipping_gross),
        "base_shipping_incl_tax": _money(shipping_gross),
        "shipping_tax_amount": _money(shipping_tax),
        "base_shipping_tax_amount": _money(shipping_tax),
        "shipping_description": "Flat Rate - Fixed",
        "discount_amount": _money(-discount_gross),
        "base_discount_amount": _money(-discount_gross),
        "discount_description": coupon_code,
        "coupon_code": coupon_code,
        "applied_rule_ids": "1" if coupon_code else None,
        "grand_total": _money(grand),
        "base_grand_total": _money(grand),
        "total_paid": 0,
        "base_total_paid": 0,
        "total_due": _money(grand),
        "base_total_due": _money(grand),
        "total_invoiced": 0,
        "total_refunded": 0,
        "total_qty_ordered": clean_number(qty_total),
        "total_item_count": len(items),
        "weight": clean_number(weight_total),
        "is_virtual": 1 if all(i["is_virtual"] for i in items) else 0,
        "email_sent": 1,
        "quote_id": order_id,
        "remote_ip": "127.0.0.1",
        "protect_code": f"{order_id:06x}",
        "items": items,
        "status_histories": [],
    }
    order["billing_address"] = _address(state, billing, "billing", order_id)
    order["billing_address_id"] = order["billing_address"]["entity_id"]
    shipping_address = _address(state, shipping, "shipping", order_id)
    title = PAYMENT_TITLES.get(payment_method, payment_method)
    order["payment"] = {
        "entity_id": order_id,
        "parent_id": order_id,
        "method": payment_method,
        "additional_information": [title, ""],
        "amount_ordered": _money(grand),
        "base_amount_ordered": _money(grand),
        "shipping_amount": _money(shipping_net),
        "base_shipping_amount": _money(shipping_net),
        "account_status": None,
        "cc_last4": None,
    }
    order["extension_attributes"] = {
        "shipping_assignments": [
            {
                "shipping": {
                    "address": shipping_address,
                    "method": "flatrate_flatrate",
                    "total": {
                        "shipping_amount": _money(shipping_net),
                        "base_shipping_amount": _money(shipping_net),
                        "shipping_incl_tax": _money(shipping_gross),
                        "base_shipping_incl_tax": _money(shipping_gross),
                        "shipping_tax_amount": _money(shipping_tax),
                        "base_shipping_tax_amount": _money(shipping_tax),
                        "shipping_discount_amount": 0,
                    },
                }
            }
        ],
        "payment_additional_info": [{"key": "method_title", "value": title}],
        "applied_taxes": [],
        "item_applied_taxes": [],
        "converting_from_quote": True,
    }
    state.orders[order_id] = order
    if reserve:
        stock_id = _order_stock(state, order)
        for item in _stock_lines(order):
            state.reserve(item["sku"], stock_id, -float(item["qty_ordered"]), _meta(order, "order_placed"))
    if status in ("processing", "complete"):
        invoice(state, order, None, capture=True, comment=None, now=created_at)
    if status == "complete" and order["state"] not in ("complete", "closed") and _open_to_ship(order):
        ship(state, order, None, tracks=[], source_code=None, comment=None, now=created_at, deduct_source=False)
    if status == "canceled":
        cancel(state, order, created_at)
    if status == "holded":
        hold(state, order, created_at)
    return order


def _meta(order: Record, event: str) -> Record:
    return {"event_type": event, "object_type": "order", "object_id": str(order["entity_id"])}


def _order_stock(state: MagentoState, order: Record) -> int:
    view = state.store_views.get(int(order.get("store_id") or 1)) or {}
    return state.stock_for_website(int(view.get("website_id", 1)))


def _top_lines(order: Record) -> list[Record]:
    return [i for i in order["items"] if not i.get("parent_item_id")]


def _children(order: Record, item: Record) -> list[Record]:
    return [i for i in order["items"] if i.get("parent_item_id") == item["item_id"]]


def _open_to_ship(order: Record) -> bool:
    """Whether a non-virtual line still has quantity to ship (a seeded "complete" order of only
    virtual lines is complete after its invoice, and shipping it would be refused)."""
    return any(
        _f(i, "qty_ordered") - _f(i, "qty_shipped") - _f(i, "qty_refunded") - _f(i, "qty_canceled") > 0
        for i in _top_lines(order)
        if not i.get("is_virtual")
    )


def _stock_lines(order: Record) -> list[Record]:
    """Lines that carry stock: simple/virtual lines and configurable children (not the parents)."""
    return [i for i in order["items"] if i.get("product_type") in ("simple", "virtual", "downloadable")]


def _compensate(state: MagentoState, order: Record, sku: str, qty: float, event: str) -> None:
    """Give back up to ``qty`` of what this order still holds reserved for ``sku``."""
    stock_id = _order_stock(state, order)
    held = -sum(
        float(r["quantity"])
        for r in state.reservations
        if r["sku"] == sku
        and r["stock_id"] == stock_id
        and (r.get("metadata") or {}).get("object_id") == str(order["entity_id"])
    )
    amount = min(qty, held)
    if amount > 0:
        state.reserve(sku, stock_id, amount, _meta(order, event))


def _requested(order: Record, items: list[Record] | None, available: dict[int, float]) -> dict[int, float]:
    if items is None:
        return {k: v for k, v in available.items() if v > 0}
    wanted: dict[int, float] = {}
    for entry in items:
        item_id = int(entry.get("order_item_id", 0))
        if item_id not in available:
            raise bad_request("The order item with ID %1 doesn't belong to the order.", [item_id])
        qty = float(entry.get("qty", 0))
        if qty < 0 or qty > available[item_id] + 1e-9:
            raise bad_request("The quantity %1 of the order item with ID %2 is invalid.", [qty, item_id])
        if qty:
            wanted[item_id] = wanted.get(item_id, 0) + qty
    return wanted


def _doc_item(state: MagentoState, parent_id: int, line: Record, qty: float) -> Record:
    return {
        "entity_id": state.next_id("doc_item"),
        "parent_id": parent_id,
        "order_item_id": line["item_id"],
        "product_id": line.get("product_id"),
        "sku": line["sku"],
        "name": line.get("name"),
        "qty": clean_number(qty),
        "price": line.get("price"),
        "base_price": line.get("base_price"),
        "price_incl_tax": line.get("price_incl_tax"),
        "row_total": _money(_f(line, "price") * qty),
        "base_row_total": _money(_f(line, "price") * qty),
        "row_total_incl_tax": _money(_f(line, "price_incl_tax") * qty),
        "tax_amount": _money((_f(line, "price_incl_tax") - _f(line, "price")) * qty),
        "discount_amount": _money(_f(line, "discount_amount") * qty / max(_f(line, "qty_ordered"), 1)),
    }


def _add_qty(record: Record, key: str, qty: float) -> None:
    record[key] = clean_number(_f(record, key) + qty)


def _history(state: MagentoState, order: Record, comment: str, now: str, entity: str = "order", **extra: Any) -> None:
    order["status_histories"].insert(
        0,
        {
            "entity_id": state.next_id("status_history"),
            "parent_id": order["entity_id"],
            "comment": comment,
            "status": order["status"],
            "is_customer_notified": extra.get("is_customer_notified", 0),
            "is_visible_on_front": extra.get("is_visible_on_front", 0),
            "created_at": now,
            "entity_name": entity,
        },
    )


def _set_state(order: Record, new_state: str) -> None:
    order["state"] = new_state
    order["status"] = STATUS_OF_STATE[new_state]


def update_state(order: Record) -> None:
    """Invoice -> processing; invoiced and shipped in full -> complete; refunded in full -> closed."""
    if order["state"] in ("canceled", "closed", "holded"):
        return
    lines = _top_lines(order)
    open_qty = [_f(i, "qty_ordered") - _f(i, "qty_canceled") for i in lines]
    refunded_all = (
        all(_f(i, "qty_refunded") >= q for i, q in zip(lines, open_qty, strict=True))
        and _f(order, "total_refunded") > 0
    )
    invoiced_all = all(_f(i, "qty_invoiced") >= q for i, q in zip(lines, open_qty, strict=True))
    shipped_all = all(
        i.get("is_virtual") or _f(i, "qty_shipped") + _f(i, "qty_refunded") >= q
        for i, q in zip(lines, open_qty, strict=True)
    )
    touched = any(_f(i, "qty_invoiced") > 0 or _f(i, "qty_shipped") > 0 for i in lines)
    if refunded_all:
        _set_state(order, "closed")
    elif invoiced_all and shipped_all:
        _set_state(order, "complete")
    elif touched:
        _set_state(order, "processing")


def _check_open(order: Record, message: str) -> None:
    if order["state"] in ("canceled", "closed", "holded", "complete", "payment_review"):
        raise bad_request(message)


def invoice(
    state: MagentoState, order: Record, items: list[Record] | None, *, capture: bool, comment: Record | None, now: str
) -> int:
    message = "The order does not allow an invoice to be created."
    _check_open(order, message)
    available = {
        int(i["item_id"]): _f(i, "qty_ordered") - _f(i, "qty_invoiced") - _f(i, "qty_canceled")
        for i in _top_lines(order)
    }
    wanted = _requested(order, items, available)
    if not wanted:
        raise bad_request(message)
    invoice_id = state.next_id("invoice")
    doc_items = []
    subtotal = tax = discount = qty_total = 0.0
    for line in _top_lines(order):
        qty = wanted.get(int(line["item_id"]), 0.0)
        if not qty:
            continue
        doc = _doc_item(state, invoice_id, line, qty)
        doc_items.append(doc)
        subtotal += float(doc["row_total"])
        tax += float(doc["tax_amount"])
        discount += float(doc["discount_amount"])
        qty_total += qty
        _add_qty(line, "qty_invoiced", qty)
        _add_qty(line, "row_invoiced", float(doc["row_total"]))
        _add_qty(line, "tax_invoiced", float(doc["tax_amount"]))
        for child in _children(order, line):
            _add_qty(child, "qty_invoiced", qty)
    first = not any(inv["order_id"] == order["entity_id"] for inv in state.invoices.values())
    shipping_net = _f(order, "shipping_amount") if first else 0.0
    shipping_tax = _f(order, "shipping_tax_amount") if first else 0.0
    grand = subtotal + tax + shipping_net + shipping_tax - discount
    record: Record = {
        "entity_id": invoice_id,
        "increment_id": f"{invoice_id:09d}",
        "order_id": order["entity_id"],
        "store_id": order["store_id"],
        "state": 2 if capture else 1,
        "can_void_flag": 0,
        "email_sent": 0,
        **_document_amounts(order, subtotal, tax, shipping_net, shipping_tax, discount),
        "base_discount_amount": _money(-discount),
        "grand_total": _money(grand),
        "base_grand_total": _money(grand),
        "total_qty": clean_number(qty_total),
        "created_at": now,
        "updated_at": now,
        "items": doc_items,
        "comments": [],
    }
    if comment and comment.get("comment"):
        record["comments"].append(_doc_comment(state, invoice_id, comment, now))
    state.invoices[invoice_id] = record
    _add_qty(order, "total_invoiced", grand)
    _add_qty(order, "base_total_invoiced", grand)
    _add_qty(order, "subtotal_invoiced", subtotal)
    _add_qty(order, "shipping_invoiced", shipping_net)
    _add_qty(order, "tax_invoiced", tax + shipping_tax)
    if capture:
        _add_qty(order, "total_paid", grand)
        _add_qty(order, "base_total_paid", grand)
        _add_qty(order["payment"], "amount_paid", grand)
        _add_qty(order["payment"], "base_amount_paid", grand)
    order["total_due"] = _money(_f(order, "grand_total") - _f(order, "total_paid"))
    order["base_total_due"] = order["total_due"]
    update_state(order)
    order["updated_at"] = now
    return invoice_id


def _doc_comment(state: MagentoState, parent_id: int, comment: Record, now: str) -> Record:
    return {
        "entity_id": state.next_id("doc_comment"),
        "parent_id": parent_id,
        "comment": str(comment.get("comment", "")),
        "is_customer_notified": int(comment.get("is_customer_notified", 0) or 0),
        "is_visible_on_front": int(comment.get("is_visible_on_front", 0) or 0),
        "created_at": now,
    }


def make_track(state: MagentoState, order: Record, shipment_id: int, data: Record, now: str) -> Record:
    return {
        "entity_id": state.next_id("track"),
        "order_id": order["entity_id"],
        "parent_id": shipment_id,
        "track_number": str(data.get("track_number", "")),
        "title": str(data.get("title", "")),
        "carrier_code": str(data.get("carrier_code", "custom")),
        "description": data.get("description"),
        "weight": data.get("weight"),
        "qty": data.get("qty"),
        "created_at": now,
        "updated_at": now,
    }


def ship(
    state: MagentoState,
    order: Record,
    items: list[Record] | None,
    *,
    tracks: list[Record],
    source_code: str | None,
    comment: Record | None,
    now: str,
    deduct_source: bool = True,
) -> int:
    message = "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created."
    _check_open(order, message)
    source = source_code or DEFAULT_SOURCE
    if source not in state.sources:
        raise bad_request('Source with code "%value" does not exist.', {"value": source})
    available = {
        int(i["item_id"]): _f(i, "qty_ordered") - _f(i, "qty_shipped") - _f(i, "qty_refunded") - _f(i, "qty_canceled")
        for i in _top_lines(order)
        if not i.get("is_virtual")
    }
    wanted = _requested(order, items, available)
    if not wanted:
        raise bad_request(message)
    moves: list[tuple[str, float]] = []
    for line in _top_lines(order):
        qty = wanted.get(int(line["item_id"]), 0.0)
        if qty:
            stock_lines = _children(order, line) or [line]
            moves += [(s["sku"], qty) for s in stock_lines if s.get("product_type") in ("simple", "downloadable")]
    if deduct_source:
        for sku, qty in moves:
            item = state.source_item(sku, source)
            if item is None or float(item["quantity"]) < qty:
                raise bad_request("Not all of your products are available in the requested quantity.")
    shipment_id = state.next_id("shipment")
    doc_items = []
    qty_total = weight_total = 0.0
    for line in _top_lines(order):
        qty = wanted.get(int(line["item_id"]), 0.0)
        if not qty:
            continue
        doc = _doc_item(state, shipment_id, line, qty)
        doc["weight"] = line.get("weight")
        doc_items.append(doc)
        qty_total += qty
        weight_total += _f(line, "weight") * qty
        _add_qty(line, "qty_shipped", qty)
        for child in _children(order, line):
            _add_qty(child, "qty_shipped", qty)
    for sku, qty in moves:
        if deduct_source:
            item = state.source_item(sku, source)
            assert item is not None
            state.set_source_item(sku, source, float(item["quantity"]) - qty, int(item["status"]))
        _compensate(state, order, sku, qty, "shipment_created")
    record: Record = {
        "entity_id": shipment_id,
        "increment_id": f"{shipment_id:09d}",
        "order_id": order["entity_id"],
        "store_id": order["store_id"],
        "customer_id": order.get("customer_id"),
        "billing_address_id": order.get("billing_address_id"),
        "shipping_address_id": order["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"].get(
            "entity_id"
        ),
        "email_sent": None,
        "shipment_status": None,
        "total_qty": clean_number(qty_total),
        "total_weight": clean_number(weight_total),
        "created_at": now,
        "updated_at": now,
        "packages": [],
        "items": doc_items,
        "tracks": [make_track(state, order, shipment_id, t, now) for t in tracks],
        "comments": [],
        "extension_attributes": {"source_code": source},
    }
    if comment and comment.get("comment"):
        record["comments"].append(_doc_comment(state, shipment_id, comment, now))
    state.shipments[shipment_id] = record
    update_state(order)
    order["updated_at"] = now
    return shipment_id


def refund(
    state: MagentoState,
    order: Record,
    items: list[Record] | None,
    *,
    arguments: Record,
    comment: Record | None,
    now: str,
    invoice: Record | None = None,
) -> int:
    if _f(order, "total_invoiced") <= 0 or order["state"] in ("canceled", "closed", "holded"):
        raise bad_request("We can't create creditmemo for the order.")
    available = {int(i["item_id"]): _f(i, "qty_invoiced") - _f(i, "qty_refunded") for i in _top_lines(order)}
    wanted = _requested(order, items, available)
    creditmemo_id = state.next_id("creditmemo")
    doc_items = []
    subtotal = tax = discount = 0.0
    return_to_stock = {int(i) for i in (arguments.get("extension_attributes") or {}).get("return_to_stock_items") or []}
    for line in _top_lines(order):
        qty = wanted.get(int(line["item_id"]), 0.0)
        if not qty:
            continue
        doc = _doc_item(state, creditmemo_id, line, qty)
        doc.update({"base_cost": 0, "base_price": line.get("base_price")})
        doc_items.append(doc)
        subtotal += float(doc["row_total"])
        tax += float(doc["tax_amount"])
        discount += float(doc["discount_amount"])
        unshipped = max(0.0, _f(line, "qty_ordered") - _f(line, "qty_shipped") - _f(line, "qty_refunded"))
        _add_qty(line, "qty_refunded", qty)
        _add_qty(line, "amount_refunded", float(doc["row_total"]))
        stock_lines = _children(order, line) or [line]
        for child in _children(order, line):
            _add_qty(child, "qty_refunded", qty)
        for stock_line in stock_lines:
            if stock_line.get("product_type") not in ("simple", "virtual", "downloadable"):
                continue
            _compensate(state, order, stock_line["sku"], min(qty, unshipped), "creditmemo_created")
            if int(line["item_id"]) in return_to_stock and DEFAULT_SOURCE in state.sources:
                current = state.source_item(stock_line["sku"], DEFAULT_SOURCE)
                base = float(current["quantity"]) if current else 0.0
                state.set_source_item(stock_line["sku"], DEFAULT_SOURCE, base + qty, 1)
    shipping_left = _f(order, "shipping_invoiced") - _f(order, "shipping_refunded")
    shipping = float(arguments["shipping_amount"]) if arguments.get("shipping_amount") is not None else shipping_left
    if shipping > shipping_left + 1e-9:
        raise bad_request("Maximum shipping amount allowed to refund is: %1", [shipping_left])
    shipping_tax = shipping * 0.19
    adjustment_positive = float(arguments.get("adjustment_positive") or 0)
    adjustment_negative = float(arguments.get("adjustment_negative") or 0)
    grand = subtotal + tax + shipping + shipping_tax - discount + adjustment_positive - adjustment_negative
    if grand <= 0:
        raise bad_request("The credit memo's total must be positive.")
    if invoice is None:
        invoices = [inv for inv in state.invoices.values() if inv["order_id"] == order["entity_id"]]
        invoice = invoices[-1] if invoices else None
    record: Record = {
        "entity_id": creditmemo_id,
        "increment_id": f"{creditmemo_id:09d}",
        "order_id": order["entity_id"],
        "invoice_id": invoice["entity_id"] if invoice else None,
        "store_id": order["store_id"],
        "state": 2,
        "creditmemo_status": None,
        "email_sent": None,
        **_document_amounts(order, subtotal, tax, shipping, shipping_tax, discount),
        "adjustment": _money(adjustment_positive - adjustment_negative),
        "adjustment_positive": _money(adjustment_positive),
        "adjustment_negative": _money(adjustment_negative),
        "grand_total": _money(grand),
        "base_grand_total": _money(grand),
        "created_at": now,
        "updated_at": now,
        "items": doc_items,
        "comments": [],
    }
    if comment and comment.get("comment"):
        record["comments"].append(_doc_comment(state, creditmemo_id, comment, now))
    state.creditmemos[creditmemo_id] = record
    _add_qty(order, "total_refunded", grand)
    _add_qty(order, "base_total_refunded", grand)
    _add_qty(order, "subtotal_refunded", subtotal)
    _add_qty(order, "shipping_refunded", shipping)
    _add_qty(order["payment"], "amount_refunded", grand)
    if invoice is not None:
        invoice["base_total_refunded"] = _money(_f(invoice, "base_total_refunded") + grand)
        invoice["is_used_for_refund"] = 1
        invoice["updated_at"] = now
    update_state(order)
    order["updated_at"] = now
    return creditmemo_id


def refund_invoice(
    state: MagentoState,
    invoice: Record,
    items: list[Record] | None,
    *,
    arguments: Record,
    comment: Record | None,
    now: str,
) -> int:
    """``RefundInvoice``: only a paid invoice with something left to refund, of a payment method that
    can refund (offline methods such as ``checkmo`` cannot); quantities are capped by the invoice."""
    order = state.order(int(invoice["order_id"]))
    left = _f(invoice, "base_grand_total") - _f(invoice, "base_total_refunded")
    method = str((order.get("payment") or {}).get("method") or "")
    if int(invoice.get("state") or 0) != INVOICE_PAID or abs(left) < 0.0001 or method not in REFUNDABLE_METHODS:
        raise bad_request("We can't create creditmemo for the invoice.")
    lines = {int(i["item_id"]): i for i in _top_lines(order)}
    refunded: dict[int, float] = {}
    for memo in state.creditmemos.values():
        if memo.get("invoice_id") == invoice["entity_id"]:
            for doc in memo["items"]:
                refunded[int(doc["order_item_id"])] = refunded.get(int(doc["order_item_id"]), 0.0) + _f(doc, "qty")
    available = {}
    for doc in invoice["items"]:
        item_id = int(doc["order_item_id"])
        line = lines.get(item_id)
        if line is not None:
            on_invoice = _f(doc, "qty") - refunded.get(item_id, 0.0)
            available[item_id] = min(on_invoice, _f(line, "qty_invoiced") - _f(line, "qty_refunded"))
    wanted = _requested(order, items, available)
    chosen = [{"order_item_id": item_id, "qty": qty} for item_id, qty in wanted.items()]
    return refund(state, order, chosen, arguments=arguments, comment=comment, now=now, invoice=invoice)


def cancel(state: MagentoState, order: Record, now: str) -> bool:
    """``false`` (not an error) when the order cannot be canceled, as ``OrderManagement::cancel`` does."""
    if order["state"] in ("canceled", "complete", "closed", "holded") or any(
        _f(i, "qty_invoiced") > 0 for i in order["items"]
    ):
        return False
    for line in order["items"]:
        open_qty = _f(line, "qty_ordered") - _f(line, "qty_shipped") - _f(line, "qty_canceled")
        _add_qty(line, "qty_canceled", open_qty)
        if line.get("product_type") in ("simple", "virtual", "downloadable"):
            _compensate(state, order, line["sku"], open_qty, "order_canceled")
    _set_state(order, "canceled")
    order["total_canceled"] = order["grand_total"]
    order["updated_at"] = now
    return True


def hold(state: MagentoState, order: Record, now: str) -> bool:
    if order["state"] not in ("new", "processing"):
        raise bad_request("A hold action is not available.")
    order["hold_before_state"] = order["state"]
    order["hold_before_status"] = order["status"]
    _set_state(order, "holded")
    order["updated_at"] = now
    return True


def unhold(state: MagentoState, order: Record, now: str) -> bool:
    if order["state"] != "holded":
        raise bad_request("You cannot remove the hold.")
    order["state"] = order.pop("hold_before_state", "new")
    order["status"] = order.pop("hold_before_status", STATUS_OF_STATE[order["state"]])
    order["updated_at"] = now
    return True


def add_comment(state: MagentoState, order: Record, history: Record, now: str, *, changes_status: bool) -> bool:
    status = history.get("status")
    if changes_status and status:
        order["status"] = str(status)
    _history(
        state,
        order,
        str(history.get("comment", "")),
        now,
        is_customer_notified=int(history.get("is_customer_notified") or 0),
        is_visible_on_front=int(history.get("is_visible_on_front") or 0),
    )
    order["status_histories"][0]["status"] = status if status else order["status"]
    order["updated_at"] = now
    return True


def render_order(order: Record) -> Record:
    out = copy.deepcopy(order)
    by_id = {i["item_id"]: i for i in order["items"]}
    for item in out["items"]:
        parent = by_id.get(item.get("parent_item_id"))
        if parent is not None:
            item["parent_item"] = copy.deepcopy(parent)
    for assignment in out.get("extension_attributes", {}).get("shipping_assignments") or []:
        assignment["items"] = copy.deepcopy(out["items"])
    return out


def raw_save(state: MagentoState, entity: Record, now: str) -> Record:
    """``POST /V1/orders``: ``OrderRepository::save`` as given; no totals, no reservation."""
    if not isinstance(entity, dict):
        raise bad_request("Invalid order data")
    order_id = entity.get("entity_id")
    if order_id is not None and int(order_id) in state.orders:
        order = state.orders[int(order_id)]
        for key, value in copy.deepcopy(entity).items():
            if key == "items":
                continue
            order[key] = value
        order["updated_at"] = now
        return order
    for name in ("customer_email", "grand_total", "base_grand_total"):
        if entity.get(name) is None:
            raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": name})
    order = copy.deepcopy(entity)
    new_id = state.next_id("order")
    order["entity_id"] = new_id
    order.setdefault("increment_id", f"{state.next_id('order_increment'):09d}")
    order.setdefault("state", "new")
    order.setdefault("status", STATUS_OF_STATE.get(order["state"], "pending"))
    order.setdefault("store_id", 1)
    order["created_at"] = order.get("created_at") or now
    order["updated_at"] = now
    order.setdefault("status_histories", [])
    for key in ("total_paid", "total_invoiced", "total_refunded"):
        order.setdefault(key, 0)
    items = []
    for item in order.get("items") or []:
        line = _line(state.next_id("order_item"), new_id, int(order["store_id"]), now)
        line.update({k: v for k, v in item.items() if k not in ("item_id", "order_id")})
        line.setdefault("qty_ordered", 1)
        line.setdefault("product_type", "simple")
        items.append(line)
    order["items"] = items
    order["total_item_count"] = len(items)
    if order.get("billing_address"):
        order["billing_address"] = _address(state, order["billing_address"], "billing", new_id)
        order["billing_address_id"] = order["billing_address"]["entity_id"]
    for assignment in (order.get("extension_attributes") or {}).get("shipping_assignments") or []:
        assignment.pop("items", None)
        shipping = assignment.get("shipping") or {}
        if shipping.get("address"):
            shipping["address"] = _address(state, shipping["address"], "shipping", new_id)
    payment = order.setdefault("payment", {})
    payment.setdefault("entity_id", new_id)
    payment["parent_id"] = new_id
    state.orders[new_id] = order
    return order


def _document_amounts(
    order: Record, subtotal: float, tax: float, shipping: float, shipping_tax: float, discount: float
) -> Record:
    """The currency and total fields invoices and credit memos share."""
    return {
        "billing_address_id": order.get("billing_address_id"),
        "base_currency_code": order["base_currency_code"],
        "order_currency_code": order["order_currency_code"],
        "global_currency_code": order["global_currency_code"],
        "store_currency_code": order["store_currency_code"],
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "subtotal": _money(subtotal),
        "base_subtotal": _money(subtotal),
        "subtotal_incl_tax": _money(subtotal + tax),
        "tax_amount": _money(tax + shipping_tax),
        "base_tax_amount": _money(tax + shipping_tax),
        "shipping_amount": _money(shipping),
        "base_shipping_amount": _money(shipping),
        "shipping_incl_tax": _money(shipping + shipping_tax),
        "shipping_tax_amount": _money(shipping_tax),
        "discount_amount": _money(-discount),
    }
