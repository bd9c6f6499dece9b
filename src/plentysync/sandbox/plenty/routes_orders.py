"""Orders, shipping packages and comments (notes §9)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty import orders
from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.errors import Validator
from plentysync.sandbox.plenty.filters import from_to, in_range
from plentysync.sandbox.plenty.paging import paginate
from plentysync.sandbox.plenty.params import float_param, int_list, int_param, with_values
from plentysync.sandbox.plenty.state import Record, public


def _date(order: Record, type_id: int) -> str | None:
    return next((d["date"] for d in order["dates"] if d["typeId"] == type_id), None)


def _matches(ctx: Ctx, order: Record) -> bool:
    q, state = ctx.query, ctx.state
    ids = int_list(q, "orderIds")
    if ids is not None and order["id"] not in ids:
        return False
    types = int_list(q, "orderType")
    if types is not None and order["typeId"] not in types:
        return False
    external = q.get("externalOrderId")
    if external is not None and state.order_property(order["id"], 7) != external:
        return False
    contact = int_param(q, "contactId")
    if contact is not None and order.get("contactReceiverId") != contact:
        return False
    referrer = float_param(q, "referrerId")
    if referrer is not None and abs(order["referrerId"] - referrer) > 1e-9:
        return False
    client = int_param(q, "clientId")
    if client is not None and order["plentyId"] != client:
        return False
    status_from, status_to = float_param(q, "statusFrom"), float_param(q, "statusTo")
    if status_from is not None and order["statusId"] < status_from:
        return False
    if status_to is not None and order["statusId"] > status_to:
        return False
    payment_status = q.get("paymentStatus")
    if payment_status is not None and state.order_property(order["id"], 4) != payment_status:
        return False
    variation = int_param(q, "includedVariation")
    if variation is not None and not any(i["itemVariationId"] == variation for i in order["orderItems"]):
        return False
    for prefix, stored in (
        ("updatedAt", order["updatedAt"]),
        ("createdAt", order["createdAt"]),
        ("paidAt", _date(order, 3)),
        ("outgoingItemsBookedAt", _date(order, 5)),
    ):
        bounds = from_to(q, prefix)
        if bounds is not None and not in_range(stored, bounds):
            return False
    return True


async def list_orders(ctx: Ctx) -> Any:
    with_ = with_values(ctx.query)
    selected = [o for o in ctx.state.orders.values() if _matches(ctx, o)]
    sort_by = ctx.query.get("sortBy", "id")
    if sort_by in ("id", "statusId", "createdAt"):
        selected.sort(key=lambda o: o[sort_by], reverse=ctx.query.get("sortOrder", "asc").lower() == "desc")
    entries = [orders.render_order(ctx.state, o, with_) for o in selected]
    return paginate(entries, ctx.query, clamp=ctx.config.clamp_pages)


async def create_order(ctx: Ctx) -> Any:
    order = orders.create_order(ctx.state, await ctx.body())
    return orders.render_order(ctx.state, order, set())


async def get_order(ctx: Ctx) -> Any:
    order = lookup(ctx.state.orders, ctx.path_int("order_id"), "Order")
    return orders.render_order(ctx.state, order, with_values(ctx.query))


async def update_order(ctx: Ctx) -> Any:
    order = lookup(ctx.state.orders, ctx.path_int("order_id"), "Order")
    orders.update_order(ctx.state, order, await ctx.body())
    return orders.render_order(ctx.state, order, set())


async def cancel_order(ctx: Ctx) -> Any:
    order = lookup(ctx.state.orders, ctx.path_int("order_id"), "Order")
    body = await ctx.body()
    orders.change_status(ctx.state, order, float(body.get("statusId") or orders.CANCELED_STATUS))
    orders.touch(ctx.state, order)
    return orders.render_order(ctx.state, order, set())


async def packages(ctx: Ctx) -> Any:
    order_id = ctx.path_int("order_id")
    lookup(ctx.state.orders, order_id, "Order")
    return [public(p) for p in ctx.state.shipping_packages.values() if p["orderId"] == order_id]


async def add_package(ctx: Ctx) -> Any:
    order = lookup(ctx.state.orders, ctx.path_int("order_id"), "Order")
    body = await ctx.body()
    v = Validator()
    v.require(body, "packageId")
    v.require(body, "packageType")
    v.check()
    now = ctx.state.now()
    package: Record = {
        "id": ctx.state.next_id("shipping_package"),
        "orderId": order["id"],
        "packageId": int(body["packageId"]),
        "weight": int(body.get("weight", 0) or 0),
        "packageNumber": str(body.get("packageNumber") or ""),
        "labelPath": str(body.get("labelPath") or ""),
        "returnPackageNumber": str(body.get("returnPackageNumber") or ""),
        "packageType": int(body["packageType"]),
        "volume": float(body.get("volume", 0) or 0),
        "palletId": None,
        "isClosed": False,
        "createdAt": now,
        "updatedAt": now,
    }
    ctx.state.shipping_packages[package["id"]] = package
    orders.touch(ctx.state, order)
    return public(package)


async def add_comment(ctx: Ctx) -> Any:
    body = await ctx.body()
    v = Validator()
    for field in ("referenceType", "referenceValue", "text"):
        v.require(body, field)
    v.check()
    now = ctx.state.now()
    comment: Record = {
        "id": ctx.state.next_id("comment"),
        "referenceType": str(body["referenceType"]),
        "referenceValue": int(body["referenceValue"]),
        "text": str(body["text"]),
        "userId": body.get("userId", 1),
        "isVisibleForContact": bool(body.get("isVisibleForContact", False)),
        "createdAt": now,
        "updatedAt": now,
    }
    if comment["referenceType"] == "order":
        lookup(ctx.state.orders, comment["referenceValue"], "Order")
    ctx.state.comments[comment["id"]] = comment
    return public(comment)


ROUTES: list[RouteSpec] = [
    ("GET", "/rest/orders", list_orders),
    ("POST", "/rest/orders", create_order),
    ("GET", "/rest/orders/{order_id:int}", get_order),
    ("PUT", "/rest/orders/{order_id:int}", update_order),
    ("PUT", "/rest/orders/{order_id:int}/cancel", cancel_order),
    ("GET", "/rest/orders/{order_id:int}/shipping/packages", packages),
    ("POST", "/rest/orders/{order_id:int}/shipping/packages", add_package),
    ("POST", "/rest/comments", add_comment),
]
