"""Payments (notes §10)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty import payments
from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.state import public


async def list_payments(ctx: Ctx) -> Any:
    return [public(p) for p in ctx.state.payments.values()]


async def create_payment(ctx: Ctx) -> Any:
    return public(payments.create_payment(ctx.state, await ctx.body()))


async def get_payment(ctx: Ctx) -> Any:
    return public(lookup(ctx.state.payments, ctx.path_int("payment_id"), "Payment"))


async def link_order(ctx: Ctx) -> Any:
    payment = lookup(ctx.state.payments, ctx.path_int("payment_id"), "Payment")
    order = lookup(ctx.state.orders, ctx.path_int("order_id"), "Order")
    return payments.link_to_order(ctx.state, payment, order)


async def order_payments(ctx: Ctx) -> Any:
    order_id = ctx.path_int("order_id")
    lookup(ctx.state.orders, order_id, "Order")
    return [public(p) for p in ctx.state.payments_of_order(order_id)]


async def by_property(ctx: Ctx) -> Any:
    value = ctx.request.path_params["value"]
    return [public(p) for p in payments.payments_with_property(ctx.state, ctx.path_int("type_id"), value)]


ROUTES: list[RouteSpec] = [
    ("GET", "/rest/payments", list_payments),
    ("POST", "/rest/payments", create_payment),
    ("GET", "/rest/payments/{payment_id:int}", get_payment),
    ("POST", "/rest/payment/{payment_id:int}/order/{order_id:int}", link_order),
    ("GET", "/rest/payments/orders/{order_id:int}", order_payments),
    ("GET", "/rest/payments/property/{type_id:int}/{value}", by_property),
]
