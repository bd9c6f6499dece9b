"""What a fresh Magento holds (``install_defaults``) and how a :class:`SeedCatalog` becomes Magento
records (``load_catalog``): one website with a store view per language (the first language is the
``default`` view), MSI sources per location linked to one stock, products of every type, attributes
with per-store option labels, categories with per-store names, customers and orders."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from plentysync.clock import utc
from plentysync.sandbox.catalog import SeedAddress, SeedCatalog, SeedCustomer, SeedOrder, SeedProduct
from plentysync.sandbox.magento.sales import build_order
from plentysync.sandbox.magento.state import DEFAULT_SOURCE, DEFAULT_STOCK_ID, Record, fmt_time

if TYPE_CHECKING:
    from plentysync.sandbox.magento.state import MagentoState

SEED_TIME = "2025-12-01 08:00:00"
LOCALES = {"de": "de_DE", "en": "en_GB", "fr": "fr_FR", "it": "it_IT", "es": "es_ES", "nl": "nl_NL"}
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English", "fr": "Français", "it": "Italiano", "es": "Español"}
GROUPS = {"general": 1, "wholesale": 2, "retailer": 3}
GENDERS = {"male": 1, "female": 2, "diverse": 3}


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "item"


def _store_config(locale: str) -> Record:
    return {"locale": locale, "base_currency_code": "EUR", "default_display_currency_code": "EUR"}


def new_attribute(state: MagentoState, code: str, label: str, frontend_input: str, backend_type: str) -> Record:
    return {
        "attribute_id": state.next_id("attribute"),
        "attribute_code": code,
        "frontend_input": frontend_input,
        "entity_type_id": "4",
        "is_required": code in ("name", "sku", "price"),
        "is_user_defined": False,
        "default_frontend_label": label,
        "frontend_labels": [],
        "backend_type": backend_type,
        "scope": "store" if code in ("name", "description", "url_key", "status") else "global",
        "is_visible": True,
        "is_searchable": "1",
        "is_filterable": False,
        "is_comparable": "0",
        "is_visible_on_front": "0",
        "is_html_allowed_on_front": True,
        "used_in_product_listing": "1",
        "used_for_sort_by": False,
        "is_unique": "0",
        "position": 0,
        "apply_to": [],
        "default_value": "",
        "validation_rules": [],
        "options": [],
    }


def install_defaults(state: MagentoState) -> None:
    state.websites = {
        0: {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
        1: {"id": 1, "code": "base", "name": "Main Website", "default_group_id": 1},
    }
    state.store_groups = {
        0: {
            "id": 0,
            "website_id": 0,
            "root_category_id": 0,
            "default_store_id": 0,
            "name": "Default",
            "code": "default",
        },
        1: {
            "id": 1,
            "website_id": 1,
            "root_category_id": 2,
            "default_store_id": 1,
            "name": "Main Website Store",
            "code": "main_website_store",
        },
    }
    state.store_views = {
        0: {"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1},
        1: {
            "id": 1,
            "code": "default",
            "name": "Default Store View",
            "website_id": 1,
            "store_group_id": 1,
            "is_active": 1,
        },
    }
    state.store_configs = {0: _store_config("en_US"), 1: _store_config("en_US")}
    state.bump_sequence("store", 1)
    for cid, parent, name, path, level in ((1, 0, "Root Catalog", "1", 0), (2, 1, "Default Category", "1/2", 1)):
        state.categories[cid] = {
            "id": cid,
            "parent_id": parent,
            "name": name,
            "is_active": True,
            "position": 0 if cid == 1 else 1,
            "level": level,
            "path": path,
            "created_at": SEED_TIME,
            "updated_at": SEED_TIME,
            "available_sort_by": [],
            "include_in_menu": True,
            "custom_attributes": [] if cid == 1 else [{"attribute_code": "url_key", "value": "default-category"}],
        }
    state.bump_sequence("category", 2)
    state.sources[DEFAULT_SOURCE] = {
        "source_code": DEFAULT_SOURCE,
        "name": "Default Source",
        "enabled": True,
        "description": "Default Source",
        "latitude": 0,
        "longitude": 0,
        "country_id": "DE",
        "postcode": "00000",
        "use_default_carrier_config": True,
        "carrier_links": [],
    }
    state.stocks[DEFAULT_STOCK_ID] = {
        "stock_id": DEFAULT_STOCK_ID,
        "name": "Default Stock",
        "extension_attributes": {"sales_channels": [{"type": "website", "code": "base"}]},
    }
    state.bump_sequence("stock", DEFAULT_STOCK_ID)
    state.stock_source_links = [{"stock_id": DEFAULT_STOCK_ID, "source_code": DEFAULT_SOURCE, "priority": 1}]
    for gid, code, tax_id, tax_name in (
        (0, "NOT LOGGED IN", 3, "Retail Customer"),
        (1, "General", 3, "Retail Customer"),
        (2, "Wholesale", 3, "Retail Customer"),
        (3, "Retailer", 3, "Retail Customer"),
    ):
        state.customer_groups[gid] = {"id": gid, "code": code, "tax_class_id": tax_id, "tax_class_name": tax_name}
    state.bump_sequence("customer_group", 3)
    state.attribute_sets[4] = {
        "attribute_set_id": 4,
        "attribute_set_name": "Default",
        "sort_order": 1,
        "entity_type_id": 4,
    }
    state.bump_sequence("attribute_set", 9)
    state.bump_sequence("attribute", 72)
    for code, label, frontend_input, backend in (
        ("name", "Product Name", "text", "varchar"),
        ("sku", "SKU", "text", "static"),
        ("description", "Description", "textarea", "text"),
        ("short_description", "Short Description", "textarea", "text"),
        ("price", "Price", "price", "decimal"),
        ("weight", "Weight", "weight", "decimal"),
        ("status", "Enable Product", "boolean", "int"),
        ("visibility", "Visibility", "select", "int"),
        ("url_key", "URL Key", "text", "varchar"),
        ("tax_class_id", "Tax Class", "select", "int"),
        ("manufacturer", "Manufacturer", "select", "int"),
        ("ean", "EAN", "text", "varchar"),
    ):
        state.attributes[code] = new_attribute(state, code, label, frontend_input, backend)
    state.bump_sequence("attribute_option", 100)
    state.bump_sequence("order_increment", 0)


# catalog


def load_catalog(state: MagentoState, catalog: SeedCatalog) -> None:
    languages = catalog.languages or ["de"]
    store_of: dict[str, int] = {}
    for index, lang in enumerate(languages):
        if index == 0:
            view = state.store_views[1]
            view["name"] = LANGUAGE_NAMES.get(lang, lang)
            store_id = 1
        else:
            existing = state.store_view_by_code(lang)
            store_id = existing["id"] if existing else state.next_id("store")
            state.store_views[store_id] = {
                "id": store_id,
                "code": lang,
                "name": LANGUAGE_NAMES.get(lang, lang),
                "website_id": 1,
                "store_group_id": 1,
                "is_active": 1,
            }
        state.store_configs[store_id] = _store_config(LOCALES.get(lang, f"{lang}_{lang.upper()}"))
        store_of[lang] = store_id
    _load_sources(state, catalog)
    _load_attributes(state, catalog, store_of)
    category_ids = _load_categories(state, catalog, store_of, languages[0])
    _load_products(state, catalog, store_of, languages[0], category_ids)
    customer_ids = _load_customers(state, catalog, store_of)
    for order in catalog.orders:
        if order.origin == "magento":
            _load_order(state, order, customer_ids, store_of)


def _load_sources(state: MagentoState, catalog: SeedCatalog) -> None:
    codes = []
    for location in catalog.locations:
        source = state.sources.get(location.key) or {
            "source_code": location.key,
            "enabled": True,
            "description": "",
            "latitude": 0,
            "longitude": 0,
            "postcode": "00000",
            "use_default_carrier_config": True,
            "carrier_links": [],
        }
        source["name"] = location.name
        source["country_id"] = location.country
        state.sources[location.key] = source
        codes.append(location.key)
    if not codes:
        return
    stock_id = state.next_id("stock")
    state.stocks[stock_id] = {
        "stock_id": stock_id,
        "name": "Sandbox Stock",
        "extension_attributes": {"sales_channels": [{"type": "website", "code": "base"}]},
    }
    state.stocks[DEFAULT_STOCK_ID]["extension_attributes"]["sales_channels"] = []
    for priority, code in enumerate(codes, start=1):
        state.stock_source_links.append({"stock_id": stock_id, "source_code": code, "priority": priority})


def _load_attributes(state: MagentoState, catalog: SeedCatalog, store_of: dict[str, int]) -> None:
    for seed in catalog.attributes:
        record = state.attributes.get(seed.code) or new_attribute(
            state, seed.code, seed.labels.get("admin") or next(iter(seed.labels.values()), seed.code), "select", "int"
        )
        record["is_user_defined"] = True
        record["is_filterable"] = True
        record["frontend_labels"] = [
            {"store_id": store_of[lang], "label": label} for lang, label in seed.labels.items() if lang in store_of
        ]
        options = []
        for position, value in enumerate(seed.values):
            admin_label = value.get("admin") or next(iter(value.values()))
            options.append(
                {
                    "label": admin_label,
                    "value": str(state.next_id("attribute_option")),
                    "sort_order": position,
                    "is_default": False,
                    "store_labels": [
                        {"store_id": store_of[lang], "label": label}
                        for lang, label in value.items()
                        if lang in store_of
                    ],
                }
            )
        record["options"] = options
        state.attributes[seed.code] = record


def _load_categories(
    state: MagentoState, catalog: SeedCatalog, store_of: dict[str, int], default_lang: str
) -> dict[str, int]:
    ids: dict[str, int] = {}
    pending = list(catalog.categories)
    while pending:
        progressed = False
        for seed in list(pending):
            if seed.parent_key is not None and seed.parent_key not in ids:
                continue
            parent = state.categories[ids[seed.parent_key] if seed.parent_key else 2]
            cid = state.next_id("category")
            global_name = seed.names.get(default_lang) or next(iter(seed.names.values()))
            state.categories[cid] = {
                "id": cid,
                "parent_id": parent["id"],
                "name": global_name,
                "is_active": True,
                "position": seed.position,
                "level": int(parent["level"]) + 1,
                "path": f"{parent['path']}/{cid}",
                "created_at": SEED_TIME,
                "updated_at": SEED_TIME,
                "available_sort_by": [],
                "include_in_menu": True,
                "custom_attributes": [
                    {"attribute_code": "url_key", "value": f"{slug(global_name)}-{cid}"},
                    {"attribute_code": "is_anchor", "value": "1"},
                    {"attribute_code": "display_mode", "value": "PRODUCTS"},
                ],
            }
            for lang, name in seed.names.items():
                if lang in store_of and lang != default_lang:
                    state.category_overrides.setdefault(cid, {})[store_of[lang]] = {"name": name}
            ids[seed.key] = cid
            pending.remove(seed)
            progressed = True
        if not progressed:
            raise ValueError(f"category parents missing: {[s.key for s in pending]}")
    return ids


def _option_id(state: MagentoState, code: str, index: int) -> str | None:
    attribute = state.attributes.get(code)
    if attribute is None or index >= len(attribute["options"]):
        return None
    return str(attribute["options"][index]["value"])


def _product_record(state: MagentoState, seed: SeedProduct, default_lang: str, category_ids: dict[str, int]) -> Record:
    name = seed.names.get(default_lang) or next(iter(seed.names.values()), seed.sku)
    stamp = fmt_time(utc(seed.updated_at)) if seed.updated_at else SEED_TIME
    custom: list[Record] = [
        {"attribute_code": "url_key", "value": f"{slug(name)}-{slug(seed.sku)}"},
        {"attribute_code": "tax_class_id", "value": "2"},
        {"attribute_code": "options_container", "value": "container2"},
    ]
    if seed.description.get(default_lang):
        custom.append({"attribute_code": "description", "value": seed.description[default_lang]})
    if seed.ean:
        custom.append({"attribute_code": "ean", "value": seed.ean})
    for code, index in seed.attribute_values.items():
        option = _option_id(state, code, index)
        if option is not None:
            custom.append({"attribute_code": code, "value": option})
    ext: Record = {
        "website_ids": [1],
        "category_links": [
            {"position": pos, "category_id": str(category_ids[key])}
            for pos, key in enumerate(seed.category_keys)
            if key in category_ids
        ],
    }
    return {
        "id": state.next_id("product"),
        "sku": seed.sku,
        "name": name,
        "attribute_set_id": 4,
        "price": seed.price,
        "status": 1 if seed.enabled else 2,
        "visibility": 1 if seed.parent_sku else 4,
        "type_id": seed.type,
        "created_at": SEED_TIME,
        "updated_at": stamp,
        "weight": None if seed.type == "virtual" else seed.weight,
        "extension_attributes": ext,
        "product_links": [],
        "options": [],
        "media_gallery_entries": [],
        "tier_prices": [],
        "custom_attributes": custom,
    }


def _load_products(
    state: MagentoState, catalog: SeedCatalog, store_of: dict[str, int], default_lang: str, category_ids: dict[str, int]
) -> None:
    seeds = [p for p in catalog.products if p.presence in ("both", "magento_only")]
    composite = ("configurable", "bundle", "grouped")
    for seed in sorted(seeds, key=lambda p: p.type in composite):
        record = _product_record(state, seed, default_lang, category_ids)
        state.products[seed.sku] = record
        for lang, name in seed.names.items():
            if lang in store_of and lang != default_lang:
                values: Record = {"name": name}
                if seed.description.get(lang):
                    values["description"] = seed.description[lang]
                state.product_overrides.setdefault(seed.sku, {})[store_of[lang]] = values
        for stock in seed.stock:
            if stock.location in state.sources:
                state.set_source_item(seed.sku, stock.location, stock.quantity, 1 if stock.quantity > 0 else 0)
    for seed in seeds:
        record = state.products[seed.sku]
        ext = record["extension_attributes"]
        if seed.type == "configurable":
            children = [p for p in seeds if p.parent_sku == seed.sku]
            ext["configurable_product_links"] = [state.products[c.sku]["id"] for c in children]
            options = []
            for position, code in enumerate(seed.configurable_attributes):
                attribute = state.attributes.get(code)
                if attribute is None:
                    continue
                used = sorted({c.attribute_values[code] for c in children if code in c.attribute_values})
                options.append(
                    {
                        "id": state.next_id("configurable_option"),
                        "attribute_id": str(attribute["attribute_id"]),
                        "label": attribute["default_frontend_label"],
                        "position": position,
                        "values": [
                            {"value_index": int(v)} for i in used if (v := _option_id(state, code, i)) is not None
                        ],
                        "product_id": record["id"],
                    }
                )
            ext["configurable_product_options"] = options
        elif seed.type == "bundle":
            option_id = state.next_id("bundle_option")
            ext["bundle_product_options"] = [
                {
                    "option_id": option_id,
                    "title": "Components",
                    "required": True,
                    "type": "checkbox",
                    "position": 1,
                    "sku": seed.sku,
                    "product_links": [
                        {
                            "id": str(state.next_id("bundle_link")),
                            "sku": sku,
                            "option_id": option_id,
                            "qty": qty,
                            "position": pos,
                            "is_default": True,
                            "price": 0,
                            "price_type": 0,
                            "can_change_quantity": 0,
                        }
                        for pos, (sku, qty) in enumerate(seed.components)
                    ],
                }
            ]
        elif seed.type == "grouped":
            record["product_links"] = [
                {
                    "sku": seed.sku,
                    "link_type": "associated",
                    "linked_product_sku": sku,
                    "linked_product_type": state.products[sku]["type_id"] if sku in state.products else "simple",
                    "position": pos,
                    "extension_attributes": {"qty": qty},
                }
                for pos, (sku, qty) in enumerate(seed.components)
            ]


def _address(state: MagentoState, customer_id: int, seed: SeedAddress) -> Record:
    return {
        "id": state.next_id("customer_address"),
        "customer_id": customer_id,
        "region": {"region_code": None, "region": None, "region_id": 0},
        "region_id": 0,
        "country_id": seed.country,
        "street": [f"{seed.street} {seed.house_number}".strip()],
        "company": seed.company,
        "telephone": seed.phone or "",
        "postcode": seed.postcode,
        "city": seed.city,
        "firstname": seed.first_name,
        "lastname": seed.last_name,
        "vat_id": seed.vat_id,
        "default_shipping": seed.is_default_shipping,
        "default_billing": seed.is_default_billing,
    }


def _load_customers(state: MagentoState, catalog: SeedCatalog, store_of: dict[str, int]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for seed in catalog.customers:
        if seed.presence not in ("both", "magento_only"):
            continue
        cid = state.next_id("customer")
        store_id = store_of.get(seed.language, 1)
        record = _customer_record(seed, cid, store_id, state.store_views[store_id]["name"])
        record["addresses"] = [_address(state, cid, a) for a in seed.addresses]
        for flag in ("default_billing", "default_shipping"):
            chosen = next((a for a in record["addresses"] if a[flag]), None)
            if chosen is not None:
                record[flag] = str(chosen["id"])
        state.customers[cid] = record
        ids[seed.key] = cid
    return ids


def _customer_record(seed: SeedCustomer, cid: int, store_id: int, store_name: str) -> Record:
    record: Record = {
        "id": cid,
        "group_id": GROUPS.get(seed.group, 1),
        "created_at": SEED_TIME,
        "updated_at": SEED_TIME,
        "created_in": store_name,
        "email": seed.email,
        "firstname": seed.first_name,
        "lastname": seed.last_name,
        "store_id": store_id,
        "website_id": 1,
        "addresses": [],
        "disable_auto_group_change": 0,
        "extension_attributes": {"is_subscribed": False},
    }
    if seed.gender:
        record["gender"] = GENDERS[seed.gender]
    if seed.vat_id:
        record["taxvat"] = seed.vat_id
    return record


def _order_address(seed: SeedAddress, email: str) -> Record:
    return {
        "firstname": seed.first_name,
        "lastname": seed.last_name,
        "company": seed.company,
        "street": [f"{seed.street} {seed.house_number}".strip()],
        "city": seed.city,
        "postcode": seed.postcode,
        "country_id": seed.country,
        "telephone": seed.phone or "",
        "email": email,
        "vat_id": seed.vat_id,
    }


def _load_order(state: MagentoState, seed: SeedOrder, customer_ids: dict[str, int], store_of: dict[str, int]) -> None:
    customer_id = customer_ids.get(seed.customer_key) if seed.customer_key else None
    customer = state.customers.get(customer_id) if customer_id else None
    lines: list[dict[str, Any]] = []
    for line in seed.lines:
        lines.append(
            {
                "sku": line.sku,
                "qty": line.quantity,
                "price_gross": line.unit_price_gross,
                "name": line.name,
                "tax_rate": line.tax_rate,
            }
        )
    created = fmt_time(utc(seed.created_at)) if seed.created_at else SEED_TIME
    build_order(
        state,
        increment_id=seed.number,
        customer=customer,
        email=seed.email,
        billing=_order_address(seed.billing, seed.email),
        shipping=_order_address(seed.shipping, seed.email),
        lines=lines,
        shipping_gross=seed.shipping_gross,
        currency=seed.currency,
        payment_method=seed.payment_method,
        status=seed.status,
        coupon_code=seed.coupon_code,
        discount_gross=seed.discount_gross,
        created_at=created,
        store_id=customer["store_id"] if customer else 1,
    )
