"""Admin token, stores, directory and modules."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.magento.auth import issue_admin_token
from plentysync.sandbox.magento.errors import not_found
from plentysync.sandbox.magento.router import Ctx, Router

router = Router()
STORE = "Magento_Backend::store"

COUNTRIES: list[dict[str, Any]] = [
    {
        "id": "DE",
        "two_letter_abbreviation": "DE",
        "three_letter_abbreviation": "DEU",
        "full_name_locale": "Germany",
        "full_name_english": "Germany",
        "available_regions": [
            {"id": "80", "code": "BAW", "name": "Baden-Württemberg"},
            {"id": "81", "code": "BAY", "name": "Bayern"},
            {"id": "82", "code": "BER", "name": "Berlin"},
            {"id": "84", "code": "HAM", "name": "Hamburg"},
            {"id": "88", "code": "NRW", "name": "Nordrhein-Westfalen"},
        ],
    },
    {
        "id": "US",
        "two_letter_abbreviation": "US",
        "three_letter_abbreviation": "USA",
        "full_name_locale": "United States",
        "full_name_english": "United States",
        "available_regions": [
            {"id": "12", "code": "CA", "name": "California"},
            {"id": "43", "code": "NY", "name": "New York"},
            {"id": "57", "code": "TX", "name": "Texas"},
        ],
    },
    {
        "id": "AT",
        "two_letter_abbreviation": "AT",
        "three_letter_abbreviation": "AUT",
        "full_name_locale": "Austria",
        "full_name_english": "Austria",
    },
    {
        "id": "CH",
        "two_letter_abbreviation": "CH",
        "three_letter_abbreviation": "CHE",
        "full_name_locale": "Switzerland",
        "full_name_english": "Switzerland",
    },
    {
        "id": "FR",
        "two_letter_abbreviation": "FR",
        "three_letter_abbreviation": "FRA",
        "full_name_locale": "France",
        "full_name_english": "France",
    },
    {
        "id": "GB",
        "two_letter_abbreviation": "GB",
        "three_letter_abbreviation": "GBR",
        "full_name_locale": "United Kingdom",
        "full_name_english": "United Kingdom",
    },
    {
        "id": "NL",
        "two_letter_abbreviation": "NL",
        "three_letter_abbreviation": "NLD",
        "full_name_locale": "Netherlands",
        "full_name_english": "Netherlands",
    },
]

MODULES = [
    "Magento_Store",
    "Magento_Directory",
    "Magento_Eav",
    "Magento_Customer",
    "Magento_Catalog",
    "Magento_CatalogInventory",
    "Magento_ConfigurableProduct",
    "Magento_Bundle",
    "Magento_GroupedProduct",
    "Magento_Sales",
    "Magento_Integration",
    "Magento_Webapi",
    "Magento_TwoFactorAuth",
    "Magento_Inventory",
    "Magento_InventoryApi",
    "Magento_InventorySales",
    "Magento_InventoryReservations",
]


@router.route("POST", "/integration/admin/token", None, body=("username", "password"))
def admin_token(ctx: Ctx) -> str:
    return issue_admin_token(ctx.state, ctx.config, ctx.body, ctx.clock.now())


@router.route("GET", "/store/storeViews", STORE)
def store_views(ctx: Ctx) -> list[dict[str, Any]]:
    return [ctx.state.store_views[k] for k in sorted(ctx.state.store_views)]


@router.route("GET", "/store/websites", STORE)
def websites(ctx: Ctx) -> list[dict[str, Any]]:
    return [ctx.state.websites[k] for k in sorted(ctx.state.websites)]


@router.route("GET", "/store/storeGroups", STORE)
def store_groups(ctx: Ctx) -> list[dict[str, Any]]:
    return [ctx.state.store_groups[k] for k in sorted(ctx.state.store_groups)]


@router.route("GET", "/store/storeConfigs", STORE)
def store_configs(ctx: Ctx) -> list[dict[str, Any]]:
    wanted = ctx.query.get("storeCodes")
    codes = set(wanted if isinstance(wanted, list) else [wanted] if wanted else [])
    base = ctx.config.base_url.rstrip("/") + "/"
    out = []
    for store_id in sorted(ctx.state.store_views):
        view = ctx.state.store_views[store_id]
        if store_id == 0 or (codes and view["code"] not in codes):
            continue
        extra = ctx.state.store_configs.get(store_id, {})
        out.append(
            {
                "id": store_id,
                "code": view["code"],
                "website_id": view["website_id"],
                "locale": extra.get("locale", "en_US"),
                "base_currency_code": extra.get("base_currency_code", "EUR"),
                "default_display_currency_code": extra.get("default_display_currency_code", "EUR"),
                "timezone": extra.get("timezone", "Europe/Berlin"),
                "weight_unit": "kgs",
                "base_url": base,
                "base_link_url": base,
                "base_static_url": base + "static/",
                "base_media_url": base + "media/",
                "secure_base_url": base,
                "secure_base_link_url": base,
                "secure_base_static_url": base + "static/",
                "secure_base_media_url": base + "media/",
            }
        )
    return out


@router.route("GET", "/directory/countries", None)
def countries(ctx: Ctx) -> list[dict[str, Any]]:
    return COUNTRIES


@router.route("GET", "/directory/countries/{countryId}", None)
def country(ctx: Ctx) -> dict[str, Any]:
    wanted = ctx.params["countryId"].upper()
    for entry in COUNTRIES:
        if entry["id"] == wanted:
            return entry
    raise not_found("The country isn't available.")


@router.route("GET", "/directory/currency", None)
def currency(ctx: Ctx) -> dict[str, Any]:
    return {
        "base_currency_code": "EUR",
        "base_currency_symbol": "€",
        "default_display_currency_code": "EUR",
        "default_display_currency_symbol": "€",
        "available_currency_codes": ["EUR", "USD", "GBP", "CHF"],
        "exchange_rates": [
            {"currency_to": "EUR", "rate": 1},
            {"currency_to": "USD", "rate": 1.08},
            {"currency_to": "GBP", "rate": 0.85},
            {"currency_to": "CHF", "rate": 0.95},
        ],
    }


@router.route("GET", "/modules", "Magento_Backend::admin")
def modules(ctx: Ctx) -> list[str]:
    return MODULES
