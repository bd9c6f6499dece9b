"""All data of the simulated PlentyONE system, in memory, JSON round-trippable.

Records are kept as plain JSON-ready dicts in the shapes the API emits. Keys starting with ``_`` are
internal bookkeeping and never leave the server (see :func:`public`). Domain operations (stock
bookings, orders, payments, addresses) live in their own modules and work on this state.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plentysync.clock import Clock, SystemClock
from plentysync.sandbox.persist import write_json_atomic
from plentysync.sandbox.plenty.timefmt import w3c

if TYPE_CHECKING:
    from plentysync.sandbox.catalog import SeedCatalog

Record = dict[str, Any]

# Stores keyed by integer id; JSON turns the keys into strings, from_dict turns them back.
_ID_STORES = (
    "items",
    "variations",
    "categories",
    "attributes",
    "attribute_values",
    "properties",
    "warehouses",
    "orders",
    "payments",
    "contacts",
    "addresses",
    "accounts",
    "shipping_packages",
    "comments",
    "item_texts",
)
_PLAIN_STORES = (
    "webstores",
    "statuses",
    "referrers",
    "shipping_presets",
    "countries",
    "payment_methods",
    "contact_classes",
    "vat_standard",
    "units",
    "sales_prices",
    "barcode_types",
    "stock",
    "reservations",
    "stock_updated",
    "movements",
    "payment_orders",
    "contact_addresses",
    "tokens",
    "refresh_tokens",
    "counters",
    "seed_keys",
    "throttled_count",
)


@dataclass(frozen=True)
class StockLevel:
    """Stock of one variation in one warehouse, summed over storage locations."""

    physical: float
    reserved: float

    @property
    def net(self) -> float:
        return self.physical - self.reserved


def public(record: Record) -> Record:
    """A deep copy without internal (``_``-prefixed) keys."""
    return {key: copy.deepcopy(value) for key, value in record.items() if not key.startswith("_")}


class PlentyState:
    """The data of one PlentyONE system. ``PlentyState()`` is empty; :meth:`minimal` adds the
    reference data (webstore, warehouse, statuses, ...) a client needs to work."""

    def __init__(self, plenty_id: int = 12345, clock: Clock | None = None) -> None:
        self.plenty_id = plenty_id
        self.clock: Clock = clock or SystemClock()
        """Source of every timestamp; ``create_plenty_app(clock=...)`` replaces it. Not persisted."""
        self.items: dict[int, Record] = {}
        self.variations: dict[int, Record] = {}
        self.item_texts: dict[int, list[Record]] = {}
        """Item id -> description records (``/descriptions`` shape), one per language."""
        self.categories: dict[int, Record] = {}
        self.attributes: dict[int, Record] = {}
        self.attribute_values: dict[int, Record] = {}
        self.properties: dict[int, Record] = {}
        self.warehouses: dict[int, Record] = {}
        self.orders: dict[int, Record] = {}
        self.payments: dict[int, Record] = {}
        self.contacts: dict[int, Record] = {}
        self.addresses: dict[int, Record] = {}
        self.accounts: dict[int, Record] = {}
        self.shipping_packages: dict[int, Record] = {}
        self.comments: dict[int, Record] = {}
        self.webstores: list[Record] = []
        self.statuses: list[Record] = []
        self.referrers: list[Record] = []
        self.shipping_presets: list[Record] = []
        self.countries: list[Record] = []
        self.payment_methods: list[Record] = []
        self.contact_classes: dict[str, str] = {}
        self.vat_standard: Record = {}
        self.units: list[Record] = []
        self.sales_prices: list[Record] = []
        self.barcode_types: list[Record] = []
        self.stock: dict[str, float] = {}
        """``"variationId:warehouseId:storageLocationId"`` -> physical quantity."""
        self.reservations: dict[str, float] = {}
        """``"variationId:warehouseId"`` -> reserved quantity (open sales orders)."""
        self.stock_updated: dict[str, str] = {}
        """``"variationId:warehouseId"`` -> W3C time of the last change of physical or reserved stock."""
        self.movements: list[Record] = []
        """Every booking and correction, oldest first (``/stock/movements`` shape plus ``_`` extras)."""
        self.payment_orders: list[Record] = []
        self.contact_addresses: list[Record] = []
        """``{"contactId", "addressId", "typeId", "isPrimary"}`` relations."""
        self.tokens: dict[str, Record] = {}
        self.refresh_tokens: dict[str, Record] = {}
        self.counters: dict[str, int] = {}
        self.seed_keys: dict[str, dict[str, int]] = {}
        """Seed catalog key -> id per kind: warehouse, category, attribute, item, customer, order."""
        self.throttled_count: int = 0
        """Number of 429 answers sent because a throttling window was spent."""

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def minimal(cls, plenty_id: int = 12345, clock: Clock | None = None) -> PlentyState:
        """One webstore, one warehouse and the usual reference data; no items, contacts or orders."""
        from plentysync.sandbox.plenty.reference import add_reference_data

        state = cls(plenty_id, clock)
        add_reference_data(state)
        return state

    def load_catalog(self, catalog: SeedCatalog, *, include_magento_orders: bool = False) -> None:
        """Add a seed catalog's records (see :mod:`plentysync.sandbox.plenty.seed`)."""
        from plentysync.sandbox.plenty.seed import load_catalog

        load_catalog(self, catalog, include_magento_orders=include_magento_orders)

    # -- helpers ------------------------------------------------------------------------------

    def now(self) -> str:
        return w3c(self.clock.now())

    def next_id(self, kind: str, start: int = 1) -> int:
        value = max(self.counters.get(kind, start - 1) + 1, start)
        self.counters[kind] = value
        return value

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired; refresh tokens stay valid."""
        for token in self.tokens.values():
            token["expiresAt"] = 0.0

    # -- typed accessors ----------------------------------------------------------------------

    def stock_of(self, variation_id: int, warehouse_id: int) -> StockLevel:
        prefix = f"{variation_id}:{warehouse_id}:"
        physical = sum(qty for key, qty in self.stock.items() if key.startswith(prefix))
        return StockLevel(physical, self.reservations.get(f"{variation_id}:{warehouse_id}", 0.0))

    def stock_at_location(self, variation_id: int, warehouse_id: int, storage_location_id: int = 0) -> float:
        return self.stock.get(f"{variation_id}:{warehouse_id}:{storage_location_id}", 0.0)

    def stock_pairs(self) -> list[tuple[int, int]]:
        """Every (variation, warehouse) with a stock row, sorted."""
        pairs = {tuple(int(p) for p in key.split(":")[:2]) for key in self.stock}
        pairs |= {tuple(int(p) for p in key.split(":")) for key in self.reservations}
        return sorted((v, w) for v, w in pairs)

    def variation_by_number(self, number: str) -> Record | None:
        for variation in self.variations.values():
            if variation.get("number") == number:
                return variation
        return None

    def variation_links(self, variation_id: int, relation: str) -> list[Record]:
        """The stored links of one relation of a variation: ``variationBarcodes``, ``variationSalesPrices``,
        ``variationCategories``, ``variationClients`` or ``variationAttributeValues``."""
        links: list[Record] = self.variations[variation_id]["_rel"][relation]
        return links

    def item_text(self, item_id: int, lang: str) -> Record | None:
        """The stored text of an item in one language (``/descriptions`` shape)."""
        return next((t for t in self.item_texts.get(item_id, []) if t["lang"] == lang), None)

    def movements_of(self, variation_id: int, warehouse_id: int | None = None) -> list[Record]:
        return [
            m
            for m in self.movements
            if m["variationId"] == variation_id and (warehouse_id is None or m["warehouseId"] == warehouse_id)
        ]

    def order_property(self, order_id: int, type_id: int) -> str | None:
        for prop in self.orders[order_id].get("properties", []):
            if prop["typeId"] == type_id:
                return str(prop["value"])
        return None

    def orders_by_external_id(self, external_order_id: str) -> list[Record]:
        return [o for o in self.orders.values() if self.order_property(o["id"], 7) == external_order_id]

    def addresses_of(self, contact_id: int, type_id: int | None = None) -> list[Record]:
        ids = [
            rel["addressId"]
            for rel in self.contact_addresses
            if rel["contactId"] == contact_id and (type_id is None or rel["typeId"] == type_id)
        ]
        seen: list[int] = []
        for address_id in ids:
            if address_id not in seen:
                seen.append(address_id)
        return [self.addresses[a] for a in seen if a in self.addresses]

    def payments_of_order(self, order_id: int) -> list[Record]:
        ids = [rel["paymentId"] for rel in self.payment_orders if rel["orderId"] == order_id]
        return [self.payments[p] for p in ids if p in self.payments]

    def seed_id(self, kind: str, key: str) -> int:
        """The id a seed catalog record got, e.g. ``seed_id("warehouse", "berlin")``."""
        return self.seed_keys[kind][key]

    # -- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"plenty_id": self.plenty_id}
        for name in _ID_STORES:
            data[name] = {str(key): value for key, value in getattr(self, name).items()}
        for name in _PLAIN_STORES:
            data[name] = getattr(self, name)
        return copy.deepcopy(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlentyState:
        state = cls(int(data.get("plenty_id", 12345)))
        for name in _ID_STORES:
            setattr(state, name, {int(key): value for key, value in copy.deepcopy(data.get(name, {})).items()})
        for name in _PLAIN_STORES:
            if name in data:
                setattr(state, name, copy.deepcopy(data[name]))
        return state

    def save(self, path: Path) -> None:
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> PlentyState:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls.from_dict(data)
