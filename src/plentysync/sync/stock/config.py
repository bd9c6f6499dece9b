"""The options of the stock profiles (seed 000's configuration sections), as pydantic schemas.

Both profiles share the client, HTTP and warehouse/source options; export adds the correction mode,
the bootstrap policy and the reason ids, import the stock kind and the poll window. The schemas check
what can be checked alone; :func:`check_against_reference` checks the ids against the reference data
collected from both systems (a mapping to a warehouse that does not exist is a configuration error
before the run, not a surprise in the middle of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from plentysync.engine.registry import ProfileConfig
from plentysync.engine.schedule import normalize_cron
from plentysync.errors import ConfigError
from plentysync.plenty.stock import CORRECTION_REASONS, INCOMING_REASONS, OUTGOING_REASONS

EXPORT_TYPE_ID = "plenty_stock_export"
IMPORT_TYPE_ID = "plenty_stock_import"
STOCK_ELIGIBLE_TYPES = ("simple", "virtual", "downloadable")
"""Product types that hold stock; configurable, bundle and grouped parents have no source items."""
DEFAULT_SOURCE = "default"

CorrectionMode = Literal["absolute", "delta"]
BootstrapPolicy = Literal["absolute_then_delta", "skip_and_seed", "reconcile_to_cache"]
InventoryApi = Literal["msi", "legacy"]
MAX_PLENTY_ID = 2**31 - 1
"""PlentyONE ids (warehouses, reasons) are 32-bit integers."""
PlentyId = Annotated[StrictInt, Field(gt=0, le=MAX_PLENTY_ID)]
"""A PlentyONE id in a profile configuration: a whole number (not ``true``, ``"3"`` or ``3.0``), 1 to 2^31-1."""


class HttpOptions(BaseModel):
    """Per-profile overrides of the ``[http]`` settings (seed: HTTP API Configuration)."""

    model_config = ConfigDict(extra="forbid")

    read_timeout_seconds: float | None = Field(None, gt=0)
    max_attempts: int | None = Field(None, ge=1, le=20)
    log_requests: bool | None = None
    """Write this profile's requests to ``<log_dir>/<profile>_request.log`` (redacted)."""


class StockProfileConfig(ProfileConfig):
    """What both stock profiles share."""

    plenty_connection: str = "plenty"
    """The stored PlentyONE connection (seed: client)."""
    magento_connection: str = "magento"
    """The stored Magento connection."""
    main_warehouse_id: PlentyId
    """The PlentyONE warehouse of every source without an explicit mapping when the mapping is empty."""
    stock_source_mapping: dict[str, PlentyId] = Field(default_factory=dict)
    """Magento source code -> PlentyONE warehouse id. With rows, unmapped sources are not synced; empty,
    everything goes to (or comes from) ``main_warehouse_id``."""
    inventory_api: InventoryApi = "msi"
    """``msi``: source items per source; ``legacy``: single-source shops without MSI (the legacy stock
    item stands for the ``default`` source)."""
    http: HttpOptions = Field(default_factory=HttpOptions)
    reference_max_age_hours: float = Field(24.0, gt=0)
    """How old the collected warehouses and sources may be before a run collects them again."""

    @field_validator("stock_source_mapping")
    @classmethod
    def _mapping_ids(cls, value: dict[str, int]) -> dict[str, int]:
        for code in value:
            if not code.strip():
                raise ValueError("source codes must not be empty")
        return value

    def warehouse_of(self, source_code: str) -> int | None:
        """Where a source's stock goes; None for an unmapped source when there is a mapping."""
        if not self.stock_source_mapping:
            return self.main_warehouse_id
        return self.stock_source_mapping.get(source_code)

    def warehouses(self) -> list[int]:
        return sorted(set(self.stock_source_mapping.values()) or {self.main_warehouse_id})


class StockExportConfig(StockProfileConfig):
    """``plenty_stock_export``: Magento -> PlentyONE."""

    correction_mode: CorrectionMode = "absolute"
    bootstrap_policy: BootstrapPolicy = "absolute_then_delta"
    """Delta mode only: what the first push of a (SKU, warehouse) pair without a baseline does."""
    max_skus_per_push: int = Field(1000, ge=1, le=10_000)
    """Claimed batches (``process_batch_size`` SKUs each, one Magento read per batch) are merged until
    this many SKUs or the queue runs dry, so every PlentyONE call carries as many rows as it accepts:
    the write budget counts calls, not rows."""
    correction_reason_id: PlentyId = 301
    incoming_reason_id: PlentyId = 100
    outgoing_reason_id: PlentyId = 200
    poll_interval_seconds: int = Field(60, ge=5, le=86_400)
    """How often the worker scans Magento's source items for changes (plentysync cannot hook Magento)."""
    drift_cron: str = "15 * * * *"
    """When the worker runs the drift reconciler (the seed's hourly sweep)."""
    drift_tolerance: float = Field(0.0001, ge=0)

    @field_validator("drift_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            return normalize_cron(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _reasons(self) -> StockExportConfig:
        for name, value, allowed in (
            ("correction_reason_id", self.correction_reason_id, CORRECTION_REASONS),
            ("incoming_reason_id", self.incoming_reason_id, INCOMING_REASONS),
            ("outgoing_reason_id", self.outgoing_reason_id, OUTGOING_REASONS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} {value} must be between {allowed.start} and {allowed.stop - 1}")
        return self


class StockImportConfig(StockProfileConfig):
    """``plenty_stock_import``: PlentyONE -> Magento."""

    process_batch_size: int = Field(20, ge=1, le=10_000)
    stock_kind: Literal["physical", "net"] = "physical"
    """Which PlentyONE quantity becomes the source item quantity. Physical is right for MSI, which
    subtracts its own reservations; net subtracts PlentyONE's reservations too."""
    overlap_seconds: int = Field(120, ge=0, le=86_400)
    """How far each poll reaches back before the last watermark (clock skew, late commits)."""
    set_out_of_stock_at_zero: bool = True
    """Source item status 0 (out of stock) when the quantity is zero or less."""


def check_against_reference(
    config: StockProfileConfig, *, warehouse_ids: Iterable[int], source_codes: Iterable[str] | None
) -> None:
    """Raise ConfigError naming every warehouse or source the configuration refers to that the systems
    do not have. ``source_codes`` None: the shop has no MSI (legacy inventory)."""
    known_warehouses = set(warehouse_ids)
    problems = []
    referenced = {"main_warehouse_id": config.main_warehouse_id} | {
        f"stock_source_mapping[{code}]": wid for code, wid in config.stock_source_mapping.items()
    }
    for field, wid in referenced.items():
        if wid not in known_warehouses:
            problems.append(f"{field}: PlentyONE has no warehouse {wid}")
    if source_codes is None:
        if config.inventory_api == "msi":
            problems.append("inventory_api: the Magento shop answers no MSI source routes; use legacy")
    else:
        known_sources = set(source_codes)
        for code in config.stock_source_mapping:
            if code not in known_sources:
                problems.append(f"stock_source_mapping[{code}]: Magento has no source {code!r}")
    if problems:
        known = ", ".join(map(str, sorted(known_warehouses))) or "none"
        raise ConfigError(
            "stock configuration does not match the systems: "
            + "; ".join(problems)
            + f" (PlentyONE warehouses: {known}; collect again with `plentysync stock export check`)"
        )
