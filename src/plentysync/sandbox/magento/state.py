"""The simulated Magento's data, in memory, as JSON-shaped records close to the REST representation.

Records are plain dicts so they serialise as they are; store-view values live beside the global
record (``product_overrides``/``category_overrides``) and are merged when a store scope is read.
MSI is modelled with source items, stocks, links and internal reservations; the legacy stock item
is derived from the ``default`` source item.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plentysync.sandbox.magento.errors import PRODUCT_NOT_FOUND, no_such_entity, not_found
from plentysync.sandbox.persist import write_json_atomic

if TYPE_CHECKING:
    from plentysync.sandbox.catalog import SeedCatalog

Record = dict[str, Any]

DEFAULT_SOURCE = "default"
DEFAULT_STOCK_ID = 1
SOURCE_ITEM_TYPES = frozenset({"simple", "virtual", "downloadable"})


def fmt_time(moment: datetime) -> str:
    """Magento's wire format: UTC, ``YYYY-MM-DD HH:MM:SS``, no zone."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def clean_number(value: float) -> float | int:
    """PHP's json_encode writes whole floats without ``.0``."""
    return int(value) if float(value).is_integer() else value


_INT_KEYED = (
    "websites",
    "store_groups",
    "store_views",
    "store_configs",
    "attribute_sets",
    "categories",
    "customers",
    "customer_groups",
    "orders",
    "invoices",
    "shipments",
    "creditmemos",
    "stocks",
)
_STR_KEYED = ("products", "attributes", "sources", "admin_tokens")


class MagentoState:
    """All records of one simulated Magento. ``MagentoState()`` holds a stock install (admin and
    default store, root categories 1 and 2, the ``default`` source and stock 1, customer groups 0-3)."""

    def __init__(self, *, empty: bool = False) -> None:
        self.websites: dict[int, Record] = {}
        self.store_groups: dict[int, Record] = {}
        self.store_views: dict[int, Record] = {}
        self.store_configs: dict[int, Record] = {}
        """Per store view: ``locale``, currencies, timezone (the rest of storeConfigs is derived)."""
        self.products: dict[str, Record] = {}
        self.product_overrides: dict[str, dict[int, Record]] = {}
        """SKU -> store id -> {field or custom attribute code: value}."""
        self.attributes: dict[str, Record] = {}
        self.attribute_sets: dict[int, Record] = {}
        self.attribute_set_members: dict[int, list[str]] = {}
        """Set id -> attribute codes, for sets built from a skeleton; a set without an entry (the stock
        ``Default`` set) holds every product attribute."""
        self.categories: dict[int, Record] = {}
        self.category_overrides: dict[int, dict[int, Record]] = {}
        self.customers: dict[int, Record] = {}
        self.customer_groups: dict[int, Record] = {}
        self.orders: dict[int, Record] = {}
        self.invoices: dict[int, Record] = {}
        self.shipments: dict[int, Record] = {}
        self.creditmemos: dict[int, Record] = {}
        self.sources: dict[str, Record] = {}
        self.stocks: dict[int, Record] = {}
        self.stock_source_links: list[Record] = []
        self.source_items: dict[tuple[str, str], Record] = {}
        self.reservations: list[Record] = []
        """``{"sku", "stock_id", "quantity", "metadata"}``; negative on placement, compensated later."""
        self.admin_tokens: dict[str, str] = {}
        """Admin token -> expiry (``YYYY-MM-DD HH:MM:SS`` UTC)."""
        self.used_nonces: set[str] = set()
        self.sequences: dict[str, int] = {}
        if not empty:
            from plentysync.sandbox.magento.seed import install_defaults

            install_defaults(self)

    # ids

    def next_id(self, name: str) -> int:
        value = self.sequences.get(name, 0) + 1
        self.sequences[name] = value
        return value

    def bump_sequence(self, name: str, at_least: int) -> None:
        self.sequences[name] = max(self.sequences.get(name, 0), at_least)

    # tokens

    def expire_tokens(self) -> None:
        """Forget every admin token. Integration (OAuth) credentials never expire."""
        self.admin_tokens.clear()

    # stores

    def store_view_by_code(self, code: str) -> Record | None:
        for view in self.store_views.values():
            if view["code"] == code:
                return view
        return None

    def website_code(self, website_id: int) -> str:
        website = self.websites.get(website_id)
        return str(website["code"]) if website else ""

    def stock_for_website(self, website_id: int) -> int:
        code = self.website_code(website_id)
        for stock in self.stocks.values():
            for channel in (stock.get("extension_attributes") or {}).get("sales_channels") or []:
                if channel.get("type") == "website" and channel.get("code") == code:
                    return int(stock["stock_id"])
        return DEFAULT_STOCK_ID

    # products

    def product(self, sku: str) -> Record | None:
        found = self.products.get(sku)
        if found is not None:
            return found
        lowered = sku.lower()
        for key, record in self.products.items():
            if key.lower() == lowered:
                return record
        return None

    def require_product(self, sku: str) -> Record:
        record = self.product(sku)
        if record is None:
            raise not_found(PRODUCT_NOT_FOUND)
        return record

    def product_by_id(self, product_id: int) -> Record | None:
        for record in self.products.values():
            if record["id"] == product_id:
                return record
        return None

    def attribute(self, code: str) -> Record | None:
        return self.attributes.get(code)

    def attribute_by_id(self, attribute_id: int | str) -> Record | None:
        for record in self.attributes.values():
            if str(record["attribute_id"]) == str(attribute_id):
                return record
        return None

    def attribute_set_codes(self, set_id: int) -> list[str]:
        members = self.attribute_set_members.get(set_id)
        return list(self.attributes) if members is None else [c for c in members if c in self.attributes]

    # customers and sales

    def customer(self, customer_id: int) -> Record:
        record = self.customers.get(customer_id)
        if record is None:
            raise no_such_entity("customerId", customer_id)
        return record

    def order(self, order_id: int) -> Record:
        record = self.orders.get(order_id)
        if record is None:
            raise not_found("The entity that was requested doesn't exist. Verify the entity and try again.")
        return record

    # inventory

    def source_item(self, sku: str, source_code: str) -> Record | None:
        return self.source_items.get((sku, source_code))

    def set_source_item(self, sku: str, source_code: str, quantity: float, status: int) -> Record:
        item = {"sku": sku, "source_code": source_code, "quantity": clean_number(float(quantity)), "status": status}
        self.source_items[(sku, source_code)] = item
        return item

    def stock_sources(self, stock_id: int) -> list[str]:
        links = [link for link in self.stock_source_links if int(link["stock_id"]) == stock_id]
        return [str(link["source_code"]) for link in sorted(links, key=lambda link: int(link.get("priority", 0)))]

    def stocks_of_source(self, source_code: str) -> list[int]:
        return sorted({int(link["stock_id"]) for link in self.stock_source_links if link["source_code"] == source_code})

    def reserve(self, sku: str, stock_id: int, quantity: float, metadata: Record) -> None:
        if quantity:
            self.reservations.append(
                {"sku": sku, "stock_id": stock_id, "quantity": clean_number(quantity), "metadata": metadata}
            )

    def reserved(self, sku: str, stock_id: int) -> float:
        return sum(float(r["quantity"]) for r in self.reservations if r["sku"] == sku and r["stock_id"] == stock_id)

    def is_salable(self, sku: str, stock_id: int) -> bool:
        """An enabled product of a source-item type whose salable quantity on the stock is above zero
        (composite types and unknown SKUs are never salable here)."""
        product = self.product(sku)
        if product is None or product.get("type_id") not in SOURCE_ITEM_TYPES:
            return False
        if int(product.get("status") or 1) != 1:
            return False
        return self.salable_qty(str(product["sku"]), stock_id) > 0

    def salable_qty(self, sku: str, stock_id: int) -> float:
        """Sum of in-stock quantities on the stock's enabled sources, plus (negative) reservations."""
        physical = 0.0
        for code in self.stock_sources(stock_id):
            source = self.sources.get(code)
            item = self.source_items.get((sku, code))
            if source is None or item is None or not source.get("enabled", True) or int(item["status"]) != 1:
                continue
            physical += float(item["quantity"])
        return physical + self.reserved(sku, stock_id)

    # persistence

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in _INT_KEYED:
            data[name] = {str(k): v for k, v in getattr(self, name).items()}
        for name in _STR_KEYED:
            data[name] = dict(getattr(self, name))
        data["product_overrides"] = {
            sku: {str(store): values for store, values in per_store.items()}
            for sku, per_store in self.product_overrides.items()
        }
        data["category_overrides"] = {
            str(cid): {str(store): values for store, values in per_store.items()}
            for cid, per_store in self.category_overrides.items()
        }
        data["attribute_set_members"] = {str(k): v for k, v in self.attribute_set_members.items()}
        data["stock_source_links"] = self.stock_source_links
        data["source_items"] = list(self.source_items.values())
        data["reservations"] = self.reservations
        data["used_nonces"] = sorted(self.used_nonces)
        data["sequences"] = dict(self.sequences)
        return copy.deepcopy(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MagentoState:
        state = cls(empty=True)
        data = copy.deepcopy(data)
        for name in _INT_KEYED:
            setattr(state, name, {int(k): v for k, v in data.get(name, {}).items()})
        for name in _STR_KEYED:
            setattr(state, name, dict(data.get(name, {})))
        state.product_overrides = {
            sku: {int(store): values for store, values in per_store.items()}
            for sku, per_store in data.get("product_overrides", {}).items()
        }
        state.category_overrides = {
            int(cid): {int(store): values for store, values in per_store.items()}
            for cid, per_store in data.get("category_overrides", {}).items()
        }
        state.attribute_set_members = {int(k): list(v) for k, v in data.get("attribute_set_members", {}).items()}
        state.stock_source_links = list(data.get("stock_source_links", []))
        state.source_items = {(i["sku"], i["source_code"]): i for i in data.get("source_items", [])}
        state.reservations = list(data.get("reservations", []))
        state.used_nonces = set(data.get("used_nonces", []))
        state.sequences = {k: int(v) for k, v in data.get("sequences", {}).items()}
        return state

    def save(self, path: Path) -> None:
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> MagentoState:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def load_catalog(self, catalog: SeedCatalog) -> None:
        """Add the Magento side of a seed catalog (stores per language, sources, products, customers, orders)."""
        from plentysync.sandbox.magento.seed import load_catalog

        load_catalog(self, catalog)
