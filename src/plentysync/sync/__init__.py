"""Entity packages (stock, order, customer, item, category, attribute), one per synced entity, each
with its profiles' config schemas, pure mappings and pipelines. Each registers its profile types in
:func:`register_all`."""

from __future__ import annotations

from dataclasses import dataclass

from plentysync.engine.registry import ProfileRegistry


@dataclass(frozen=True)
class PlannedType:
    type_id: str
    entity: str
    direction: str
    label: str


# The profile types of the seeds. Types not registered yet are listed by `plentysync profile types`
# as planned, so an operator can see what exists and what is still to come.
SEED_TYPES = tuple(
    PlannedType(f"plenty_{entity}_{direction}", entity, direction, f"{label} {direction.capitalize()}")
    for entity, label in (
        ("category", "Category"),
        ("attribute", "Attribute"),
        ("item", "Product"),
        ("stock", "Stock"),
        ("order", "Order"),
        ("customer", "Customer"),
    )
    for direction in ("import", "export")
)


def register_all(registry: ProfileRegistry) -> ProfileRegistry:
    """Register every profile type this version implements."""
    from plentysync.sync import stock

    stock.register(registry)
    return registry
