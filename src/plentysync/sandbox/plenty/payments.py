"""Payments and their links to orders (notes §10)."""

from __future__ import annotations

import hashlib
from typing import Any

from plentysync.sandbox.plenty.errors import Validator
from plentysync.sandbox.plenty.orders import recompute_payments
from plentysync.sandbox.plenty.state import PlentyState, Record

REQUIRED = ("amount", "exchangeRatio", "mopId", "currency", "type", "status", "transactionType")


def create_payment(state: PlentyState, body: dict[str, Any]) -> Record:
    v = Validator()
    for field in REQUIRED:
        v.require(body, field)
    if body.get("type") not in (None, "", "credit", "debit"):
        v.add("type", "The selected type is invalid.")
    if body.get("amount") is not None:
        v.number(body, "amount")
    v.check()
    now = state.now()
    payment_id = state.next_id("payment", 1)
    payment: Record = {
        "id": payment_id,
        "amount": float(body["amount"]),
        "exchangeRatio": float(body["exchangeRatio"]),
        "parentId": body.get("parentId"),
        "deleted": int(body.get("deleted", 0) or 0),
        "unaccountable": int(body.get("unaccountable", 0) or 0),
        "currency": str(body["currency"]),
        "type": str(body["type"]),
        "hash": hashlib.sha256(f"payment-{payment_id}".encode()).hexdigest()[:32],
        "origin": int(body.get("origin", 2) or 2),
        "receivedAt": str(body.get("receivedAt") or now),
        "importedAt": now,
        "status": int(body["status"]),
        "transactionType": int(body["transactionType"]),
        "mopId": int(body["mopId"]),
        "isSystemCurrency": bool(body.get("isSystemCurrency", True)),
        "properties": [
            {
                "id": state.next_id("payment_property"),
                "paymentId": payment_id,
                "typeId": int(p["typeId"]),
                "value": str(p["value"]),
            }
            for p in body.get("properties") or []
        ],
        "updatedAt": now,
    }
    state.payments[payment_id] = payment
    return payment


def link_to_order(state: PlentyState, payment: Record, order: Record) -> Record:
    """Relate a payment to an order (once) and recompute the order's payment status."""
    existing = next(
        (r for r in state.payment_orders if r["paymentId"] == payment["id"] and r["orderId"] == order["id"]), None
    )
    if existing is None:
        existing = {
            "id": state.next_id("payment_order"),
            "paymentId": payment["id"],
            "orderId": order["id"],
            "assignedAt": state.now(),
        }
        state.payment_orders.append(existing)
    recompute_payments(state, order)
    return dict(existing)


def payments_with_property(state: PlentyState, type_id: int, value: str) -> list[Record]:
    return [
        p
        for p in state.payments.values()
        if any(prop["typeId"] == type_id and prop["value"] == value for prop in p["properties"])
    ]
