"""SKU -> PlentyONE variation id (the seed's SkuToVariationIdResolver), from the identity links first and
for the rest in bulk: a few unknown SKUs are looked up by number, more by streaming the variation list
once and linking every variation it shows. Later scans only read variations changed since the last.

Magento SKU = PlentyONE variation number (the product export links them that way)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from plentysync.engine.links import IdentityLinks, Link
from plentysync.plenty import PlentyClient
from plentysync.sync.stock.store import StockStore

ENTITY = "variation"
LOOKUP_ONE_BY_ONE = 5
"""Up to this many unknown SKUs are looked up by number (one call each); more scan the list."""
SCAN_STATE = "plenty.variation_scan_at"
SCAN_OVERLAP_SECONDS = 300
PAGE = 100


@dataclass
class VariationResolver:
    links: IdentityLinks
    plenty: PlentyClient
    store: StockStore
    scanned: bool = False
    """A scan ran in this run already: SKUs still unknown are not in PlentyONE."""
    not_found: set[str] = field(default_factory=set)
    calls: int = 0

    async def resolve(self, skus: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(skus))
        known = await self.links.resolve(ENTITY, wanted)
        result = {sku: int(link.plenty_key) for sku, link in known.items()}
        missing = [sku for sku in wanted if sku not in result and sku not in self.not_found]
        if not missing:
            return result
        if self.scanned or len(missing) <= LOOKUP_ONE_BY_ONE:
            found = await self._by_number(missing)
        else:
            found = await self._scan(set(missing))
        result.update({sku: vid for sku, vid in found.items() if sku in missing})
        self.not_found.update(sku for sku in missing if sku not in result)
        return result

    async def _by_number(self, skus: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        links = []
        for sku in skus:
            self.calls += 1
            variation = await self.plenty.items.find_variation_by_number(sku)
            if variation is not None and variation.id is not None:
                found[sku] = variation.id
                links.append(_link(sku, variation.id, variation.itemId))
        await self.links.upsert(links)
        return found

    async def _scan(self, missing: set[str], *, full: bool = False) -> dict[str, int]:
        """Stream the variations (changed since the last scan, if there was one) and link them all."""
        started = int(time.time())
        last = None if full else await self.store.get_state(SCAN_STATE)
        since = f"{int(last) - SCAN_OVERLAP_SECONDS}," if isinstance(last, int | float) else None
        found: dict[str, int] = {}
        batch: list[Link] = []
        async for variation in self.plenty.items.search_variations(updated_between=since, items_per_page=PAGE):
            if variation.number and variation.id is not None:
                found[variation.number] = variation.id
                batch.append(_link(variation.number, variation.id, variation.itemId))
                if len(batch) >= 500:
                    await self.links.upsert(batch)
                    batch = []
        await self.links.upsert(batch)
        self.calls += max(1, -(-len(found) // PAGE))
        await self.store.set_state(SCAN_STATE, started)
        self.scanned = True
        unresolved = [sku for sku in missing if sku not in found]
        if since is not None and unresolved:
            # variations older than the last scan that were never linked (e.g. created in PlentyONE by hand
            # and numbered later): look them up, or read the whole list again if there are many
            if len(unresolved) <= LOOKUP_ONE_BY_ONE:
                found.update(await self._by_number(unresolved))
            else:
                found.update(await self._scan(set(unresolved), full=True))
        return found


def _link(sku: str, variation_id: int, item_id: int | None) -> Link:
    return Link(ENTITY, sku, str(variation_id), extra={"item_id": item_id} if item_id is not None else {})
