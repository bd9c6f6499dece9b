"""Stock sync in both directions (seed 000): ``plenty_stock_export`` (Magento -> PlentyONE, absolute or
delta, with bootstrap policies, exactly-once bookings and drift reconciliation) and
``plenty_stock_import`` (PlentyONE -> Magento, which also fills the cached PlentyONE stock)."""

from __future__ import annotations

from plentysync.engine.pipeline import Pipeline
from plentysync.engine.registry import ProfileRegistry, ProfileType
from plentysync.engine.stages import estimate_queue
from plentysync.sync.stock import exporter, importer
from plentysync.sync.stock.config import EXPORT_TYPE_ID, IMPORT_TYPE_ID, StockExportConfig, StockImportConfig
from plentysync.sync.stock.resources import shared_stock_resources, stock_resources

EXPORT_TYPE = ProfileType(
    type_id=EXPORT_TYPE_ID,
    entity="stock",
    direction="export",
    label="Stock Export",
    description="Pushes Magento stock changes to PlentyONE: absolute corrections or delta bookings.",
    config_model=StockExportConfig,
    pipeline=Pipeline(
        collect=exporter.collect,
        generate=exporter.generate,
        process=exporter.process,
        post_process=(exporter.record_bookings, exporter.save_entity),
        estimate=estimate_queue,
    ),
    open_resources=stock_resources,
    shared_resources=shared_stock_resources,
    concurrent_runs=True,
)

IMPORT_TYPE = ProfileType(
    type_id=IMPORT_TYPE_ID,
    entity="stock",
    direction="import",
    label="Stock Import",
    description="Polls changed PlentyONE stock, writes it to Magento (source items) and fills the stock cache.",
    config_model=StockImportConfig,
    pipeline=Pipeline(collect=importer.collect, generate=importer.generate, process=importer.process),
    queue_backed=False,
    open_resources=stock_resources,
    shared_resources=shared_stock_resources,
)


def register(registry: ProfileRegistry) -> None:
    registry.register(EXPORT_TYPE)
    registry.register(IMPORT_TYPE)
