"""Reference data routes: webstores, warehouses, statuses, referrers, shipping, payment methods,
contact classes, VAT, units, sales prices, properties."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.filters import time_param
from plentysync.sandbox.plenty.paging import paginate
from plentysync.sandbox.plenty.params import bool_param, float_param, int_param, with_values
from plentysync.sandbox.plenty.reference import EU_COUNTRIES
from plentysync.sandbox.plenty.state import public
from plentysync.sandbox.plenty.timefmt import parse_stored


async def webstores(ctx: Ctx) -> Any:
    return copy.deepcopy(ctx.state.webstores)


async def warehouses(ctx: Ctx) -> Any:
    return [public(w) for w in ctx.state.warehouses.values()]


async def warehouse(ctx: Ctx) -> Any:
    return public(lookup(ctx.state.warehouses, ctx.path_int("warehouse_id"), "Warehouse"))


async def statuses(ctx: Ctx) -> Any:
    low, high = float_param(ctx.query, "statusIdFrom"), float_param(ctx.query, "statusIdTo")
    entries = [
        s
        for s in ctx.state.statuses
        if (low is None or s["statusId"] >= low) and (high is None or s["statusId"] <= high)
    ]
    return paginate(copy.deepcopy(entries), ctx.query, clamp=ctx.config.clamp_pages)


async def referrers(ctx: Ctx) -> Any:
    return copy.deepcopy(ctx.state.referrers)


async def shipping_presets(ctx: Ctx) -> Any:
    return copy.deepcopy(ctx.state.shipping_presets)


async def countries(ctx: Ctx) -> Any:
    entries = copy.deepcopy(ctx.state.countries)
    if bool_param(ctx.query, "onlyEUCountries"):
        entries = [c for c in entries if c["isoCode2"] in EU_COUNTRIES]
    active = int_param(ctx.query, "active")
    if active is not None:
        entries = [c for c in entries if c["active"] == active]
    with_ = with_values(ctx.query)
    for country in entries:
        if "states" in with_:
            country["states"] = []
        if "names" in with_:
            country["names"] = [{"countryId": country["id"], "lang": "en", "name": country["name"]}]
    return entries


async def payment_methods(ctx: Ctx) -> Any:
    return copy.deepcopy(ctx.state.payment_methods)


async def contact_classes(ctx: Ctx) -> Any:
    return dict(ctx.state.contact_classes)


async def vat_standard(ctx: Ctx) -> Any:
    return copy.deepcopy(ctx.state.vat_standard)


async def vat_configs(ctx: Ctx) -> Any:
    """All VAT configurations (notes §12.3); the sandbox has one, the standard one. ``with=country`` embeds it."""
    configs = [copy.deepcopy(ctx.state.vat_standard)] if ctx.state.vat_standard else []
    for name in ("countryId", "locationId"):
        wanted = int_param(ctx.query, name)
        if wanted is not None:
            configs = [c for c in configs if c.get(name) == wanted]
    if "country" in with_values(ctx.query):
        countries = {c["id"]: c for c in ctx.state.countries}
        for config in configs:
            config["country"] = copy.deepcopy(countries.get(config.get("countryId")))
    return paginate(configs, ctx.query, clamp=ctx.config.clamp_pages)


def _updated_since(entries: list[dict[str, Any]], ctx: Ctx) -> list[dict[str, Any]]:
    since = time_param(ctx.query, "updatedAt")
    if since is None:
        return entries
    return [e for e in entries if e.get("updatedAt") and parse_stored(e["updatedAt"]) >= since]


async def units(ctx: Ctx) -> Any:
    return paginate(_updated_since(copy.deepcopy(ctx.state.units), ctx), ctx.query, clamp=ctx.config.clamp_pages)


async def sales_prices(ctx: Ctx) -> Any:
    entries = _updated_since(copy.deepcopy(ctx.state.sales_prices), ctx)
    return paginate(entries, ctx.query, clamp=ctx.config.clamp_pages)


async def properties(ctx: Ctx) -> Any:
    entries = [public(p) for p in ctx.state.properties.values()]
    return paginate(entries, ctx.query, clamp=ctx.config.clamp_pages)


async def barcode_types(ctx: Ctx) -> Any:
    return paginate(copy.deepcopy(ctx.state.barcode_types), ctx.query, max_per_page=100, clamp=ctx.config.clamp_pages)


ROUTES: list[RouteSpec] = [
    ("GET", "/rest/webstores", webstores),
    ("GET", "/rest/stockmanagement/warehouses", warehouses),
    ("GET", "/rest/stockmanagement/warehouses/{warehouse_id:int}", warehouse),
    ("GET", "/rest/orders/statuses", statuses),
    ("GET", "/rest/orders/referrers", referrers),
    ("GET", "/rest/orders/shipping/presets", shipping_presets),
    ("GET", "/rest/orders/shipping/countries", countries),
    ("GET", "/rest/payments/methods", payment_methods),
    ("GET", "/rest/accounts/contacts/classes", contact_classes),
    ("GET", "/rest/vat", vat_configs),
    ("GET", "/rest/vat/standard", vat_standard),
    ("GET", "/rest/items/units", units),
    ("GET", "/rest/items/sales_prices", sales_prices),
    ("GET", "/rest/items/barcodes", barcode_types),
    ("GET", "/rest/properties", properties),
]
