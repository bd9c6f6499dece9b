"""Customers (per-website email uniqueness, address replace semantics) and customer groups."""

from __future__ import annotations

import copy
from typing import Any

from plentysync.sandbox.magento.errors import bad_request, no_such_entity, not_supported, required
from plentysync.sandbox.magento.router import Ctx, Router
from plentysync.sandbox.magento.search import evaluate, search_result
from plentysync.sandbox.magento.state import MagentoState, Record

router = Router()
CUSTOMER = "Magento_Customer::customer"
MANAGE = "Magento_Customer::manage"
GROUP = "Magento_Customer::group"

CUSTOMER_KEYS = frozenset(
    [
        "id",
        "group_id",
        "default_billing",
        "default_shipping",
        "confirmation",
        "created_at",
        "updated_at",
        "created_in",
        "dob",
        "email",
        "firstname",
        "lastname",
        "middlename",
        "prefix",
        "suffix",
        "gender",
        "store_id",
        "taxvat",
        "website_id",
        "addresses",
        "disable_auto_group_change",
        "extension_attributes",
        "custom_attributes",
    ]
)
ADDRESS_KEYS = frozenset(
    [
        "id",
        "customer_id",
        "region",
        "region_id",
        "country_id",
        "street",
        "company",
        "telephone",
        "fax",
        "postcode",
        "city",
        "firstname",
        "lastname",
        "middlename",
        "prefix",
        "suffix",
        "vat_id",
        "default_shipping",
        "default_billing",
        "extension_attributes",
        "custom_attributes",
    ]
)
ADDRESS_REQUIRED = ("firstname", "lastname", "street", "city", "country_id")
DUPLICATE_EMAIL = "A customer with the same email address already exists in an associated website."


def render_customer(record: Record) -> Record:
    out = copy.deepcopy(record)
    for address in out.get("addresses") or []:
        address["default_billing"] = str(address["id"]) == str(record.get("default_billing"))
        address["default_shipping"] = str(address["id"]) == str(record.get("default_shipping"))
    return out


def _address_index(state: MagentoState) -> dict[int, tuple[Record, Record]]:
    return {int(a["id"]): (c, a) for c in state.customers.values() for a in c.get("addresses") or []}


def _normalise_address(state: MagentoState, customer_id: int, data: Any, existing: Record | None) -> Record:
    if not isinstance(data, dict):
        raise bad_request("Invalid address data")
    for key in data:
        if key not in ADDRESS_KEYS:
            raise not_supported(key)
    address = copy.deepcopy(existing) if existing else {}
    address.update(copy.deepcopy(data))
    for name in ADDRESS_REQUIRED:
        if not address.get(name):
            raise required(name)
    address["id"] = existing["id"] if existing else state.next_id("customer_address")
    address["customer_id"] = customer_id
    if isinstance(address["street"], str):
        address["street"] = [address["street"]]
    raw_region = address.get("region")
    region: Record = raw_region if isinstance(raw_region, dict) else {}
    region_id = int(address.get("region_id") or region.get("region_id") or 0)
    address["region"] = {
        "region_code": region.get("region_code"),
        "region": region.get("region"),
        "region_id": region_id,
    }
    address["region_id"] = region_id
    return address


def save_customer(ctx: Ctx, data: Any, existing: Record | None) -> Record:
    state = ctx.state
    if not isinstance(data, dict):
        raise required("customer")
    for key in data:
        if key not in CUSTOMER_KEYS:
            raise not_supported(key)
    now = ctx.now()
    record: Record = (
        copy.deepcopy(existing)
        if existing
        else {
            "group_id": 1,
            "created_at": now,
            "disable_auto_group_change": 0,
            "addresses": [],
            "extension_attributes": {"is_subscribed": False},
        }
    )
    for key, value in data.items():
        if key not in ("id", "addresses", "created_at", "updated_at"):
            record[key] = copy.deepcopy(value)
    for name in ("email", "firstname", "lastname"):
        if not str(record.get(name) or "").strip():
            raise required(name)
    if "@" not in str(record["email"]):
        raise bad_request('"%1" is not a valid email address.', [record["email"]])
    record["website_id"] = int(record.get("website_id") or ctx.scope.website_id or 1)
    if record["website_id"] not in state.websites or record["website_id"] == 0:
        raise no_such_entity("websiteId", record["website_id"])
    group_id = int(record.get("group_id") or 0)
    if group_id not in state.customer_groups:
        raise no_such_entity("id", group_id)
    record["group_id"] = group_id
    if not record.get("store_id"):
        group = next(g for g in state.store_groups.values() if g["website_id"] == record["website_id"])
        record["store_id"] = group["default_store_id"]
    record.setdefault("created_in", state.store_views.get(int(record["store_id"]), {}).get("name", ""))
    own_id = existing["id"] if existing else None
    email = str(record["email"]).lower()
    for other in state.customers.values():
        if other["id"] != own_id and other["website_id"] == record["website_id"] and other["email"].lower() == email:
            raise bad_request(DUPLICATE_EMAIL)
    customer_id = own_id if own_id is not None else state.next_id("customer")
    record["id"] = customer_id
    if "addresses" in data:
        current = {int(a["id"]): a for a in (existing or {}).get("addresses") or []}
        addresses = []
        for raw in data["addresses"] or []:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            previous = current.get(int(raw_id)) if raw_id else None
            addresses.append(_normalise_address(state, customer_id, raw, previous))
        record["addresses"] = addresses
        for flag in ("default_billing", "default_shipping"):
            chosen = next((a for a in addresses if a.get(flag) is True), None)
            if chosen is not None:
                record[flag] = str(chosen["id"])
    ids = {str(a["id"]) for a in record.get("addresses") or []}
    for flag in ("default_billing", "default_shipping"):
        if record.get(flag) is not None and str(record[flag]) not in ids:
            record.pop(flag)
        elif record.get(flag) is not None:
            record[flag] = str(record[flag])
    for address in record.get("addresses") or []:
        address.pop("default_billing", None)
        address.pop("default_shipping", None)
    record["updated_at"] = now
    state.customers[customer_id] = record
    return render_customer(record)


@router.route("GET", "/customers/search", CUSTOMER)
def search_customers(ctx: Ctx) -> dict[str, Any]:
    criteria = ctx.criteria()
    items = [render_customer(ctx.state.customers[k]) for k in sorted(ctx.state.customers)]
    return search_result(evaluate(items, criteria, ctx.limits), criteria)


@router.route("GET", "/customers/{customerId}", CUSTOMER)
def get_customer(ctx: Ctx) -> Record:
    return render_customer(ctx.state.customer(ctx.int_param("customerId")))


@router.route("POST", "/customers", None, body=("customer", "password", "redirectUrl"))
def create_customer(ctx: Ctx) -> Record:
    data = ctx.field("customer")
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "id"}
    return save_customer(ctx, data, None)


@router.route("PUT", "/customers/{customerId}", MANAGE, body=("customer", "passwordHash"))
def update_customer(ctx: Ctx) -> Record:
    existing = ctx.state.customer(ctx.int_param("customerId"))
    return save_customer(ctx, ctx.field("customer"), existing)


@router.route("DELETE", "/customers/{customerId}", MANAGE)
def delete_customer(ctx: Ctx) -> bool:
    record = ctx.state.customer(ctx.int_param("customerId"))
    del ctx.state.customers[record["id"]]
    return True


@router.route("GET", "/customers/addresses/{addressId}", CUSTOMER)
def get_address(ctx: Ctx) -> Record:
    address_id = ctx.int_param("addressId")
    found = _address_index(ctx.state).get(address_id)
    if found is None:
        raise no_such_entity("addressId", address_id)
    customer = render_customer(found[0])
    return next(a for a in customer["addresses"] if a["id"] == address_id)


@router.route("DELETE", "/addresses/{addressId}", MANAGE)
def delete_address(ctx: Ctx) -> bool:
    address_id = ctx.int_param("addressId")
    found = _address_index(ctx.state).get(address_id)
    if found is None:
        raise no_such_entity("addressId", address_id)
    customer = found[0]
    customer["addresses"] = [a for a in customer["addresses"] if a["id"] != address_id]
    for flag in ("default_billing", "default_shipping"):
        if str(customer.get(flag)) == str(address_id):
            customer.pop(flag)
    return True


def _default_address(ctx: Ctx, flag: str) -> Record | None:
    customer = render_customer(ctx.state.customer(ctx.int_param("customerId")))
    return next((a for a in customer["addresses"] if a[flag]), None)


@router.route("GET", "/customers/{customerId}/billingAddress", CUSTOMER)
def billing_address(ctx: Ctx) -> Record | None:
    return _default_address(ctx, "default_billing")


@router.route("GET", "/customers/{customerId}/shippingAddress", CUSTOMER)
def shipping_address(ctx: Ctx) -> Record | None:
    return _default_address(ctx, "default_shipping")


@router.route("POST", "/customers/isEmailAvailable", None, body=("customerEmail", "websiteId"))
def is_email_available(ctx: Ctx) -> bool:
    email = str(ctx.field("customerEmail")).lower()
    website_id = int(ctx.field("websiteId", required=False) or ctx.scope.website_id)
    return not any(c["email"].lower() == email and c["website_id"] == website_id for c in ctx.state.customers.values())


@router.route("GET", "/customerGroups/search", GROUP)
def search_groups(ctx: Ctx) -> dict[str, Any]:
    criteria = ctx.criteria()
    items = [ctx.state.customer_groups[k] for k in sorted(ctx.state.customer_groups)]
    return search_result(evaluate(items, criteria, ctx.limits), criteria)


@router.route("GET", "/customerGroups/default", GROUP)
def default_group(ctx: Ctx) -> Record:
    return ctx.state.customer_groups[1]


@router.route("GET", "/customerGroups/{id}", GROUP)
def get_group(ctx: Ctx) -> Record:
    group_id = ctx.int_param("id")
    group = ctx.state.customer_groups.get(group_id)
    if group is None:
        raise no_such_entity("id", group_id)
    return group
