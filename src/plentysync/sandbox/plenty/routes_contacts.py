"""Contacts, their addresses, and company accounts (notes §11)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty import contacts
from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.errors import Validator, not_found, validation_error
from plentysync.sandbox.plenty.paging import paginate
from plentysync.sandbox.plenty.params import bool_param, int_param, with_values
from plentysync.sandbox.plenty.state import Record, public
from plentysync.sandbox.plenty.timefmt import local_day_bounds, parse_query_date, parse_stored


def _date_filter(ctx: Ctx, name: str) -> tuple[str, Any] | None:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return None
    day = parse_query_date(raw)
    if day is None:
        raise validation_error({name: [f"The {name} does not match the format Y-m-d."]})
    return name, day


def _matches(ctx: Ctx, contact: Record) -> bool:
    q = ctx.query
    if q.get("email") is not None and contact["email"].lower() != q["email"].lower():
        return False
    if q.get("contactEmail") is not None and q["contactEmail"].lower() not in contact["email"].lower():
        return False
    if q.get("externalId") is not None and str(contact.get("externalId")) != q["externalId"]:
        return False
    if q.get("number") is not None and str(contact.get("number")) != q["number"]:
        return False
    for name in ("typeId", "plentyId", "contactId"):
        value = int_param(q, name)
        field = "id" if name == "contactId" else name
        if value is not None and contact.get(field) != value:
            return False
    for name, stored in (
        ("updatedAtAfter", contact["updatedAt"]),
        ("updatedAtBefore", contact["updatedAt"]),
        ("createdAtAfter", contact["createdAt"]),
        ("createdAtBefore", contact["createdAt"]),
    ):
        parsed = _date_filter(ctx, name)
        if parsed is None:
            continue
        start, end = local_day_bounds(parsed[1])
        moment = parse_stored(stored)
        if name.endswith("After") and moment < start:
            return False
        if name.endswith("Before") and moment > end:
            return False
    return True


async def list_contacts(ctx: Ctx) -> Any:
    with_ = with_values(ctx.query)
    entries = [contacts.render_contact(ctx.state, c, with_) for c in ctx.state.contacts.values() if _matches(ctx, c)]
    return paginate(entries, ctx.query, clamp=ctx.config.clamp_pages)


async def create_contact(ctx: Ctx) -> Any:
    contact = contacts.create_contact(ctx.state, await ctx.body())
    return contacts.render_contact(ctx.state, contact, set())


async def get_contact(ctx: Ctx) -> Any:
    contact = lookup(ctx.state.contacts, ctx.path_int("contact_id"), "Contact")
    return contacts.render_contact(ctx.state, contact, with_values(ctx.query))


async def update_contact(ctx: Ctx) -> Any:
    contact = lookup(ctx.state.contacts, ctx.path_int("contact_id"), "Contact")
    contacts.update_contact(ctx.state, contact, await ctx.body())
    return contacts.render_contact(ctx.state, contact, set())


async def contact_addresses(ctx: Ctx) -> Any:
    contact_id = ctx.path_int("contact_id")
    lookup(ctx.state.contacts, contact_id, "Contact")
    type_id = ctx.request.path_params.get("type_id")
    return [contacts.render_address(a) for a in ctx.state.addresses_of(contact_id, type_id)]


async def add_address(ctx: Ctx) -> Any:
    contact_id = ctx.path_int("contact_id")
    lookup(ctx.state.contacts, contact_id, "Contact")
    body = await ctx.body()
    type_id = int_param(ctx.query, "typeId") or int(body.get("typeId", 0) or 0)
    if not type_id:
        v = Validator()
        v.add("typeId", "The type id field is required.")
        v.check()
    address = contacts.add_address(
        ctx.state, contact_id, body, type_id, is_primary=bool(bool_param(ctx.query, "isPrimary"))
    )
    return contacts.render_address(address)


async def update_address(ctx: Ctx) -> Any:
    contact_id = ctx.path_int("contact_id")
    address_id = ctx.path_int("address_id")
    lookup(ctx.state.contacts, contact_id, "Contact")
    if address_id not in {a["id"] for a in ctx.state.addresses_of(contact_id)}:
        raise not_found(f"Address {address_id} not found for contact {contact_id}")
    address = ctx.state.addresses[address_id]
    contacts.update_address(ctx.state, address, await ctx.body())
    ctx.state.contacts[contact_id]["updatedAt"] = ctx.state.now()
    return contacts.render_address(address)


async def list_accounts(ctx: Ctx) -> Any:
    return [public(a) for a in ctx.state.accounts.values()]


async def create_account(ctx: Ctx) -> Any:
    return public(contacts.create_account(ctx.state, await ctx.body()))


async def get_account(ctx: Ctx) -> Any:
    return public(lookup(ctx.state.accounts, ctx.path_int("account_id"), "Account"))


async def link_account(ctx: Ctx) -> Any:
    contact = lookup(ctx.state.contacts, ctx.path_int("contact_id"), "Contact")
    body = await ctx.body()
    account_id = int(body.get("accountId") or 0) or None
    account = (
        lookup(ctx.state.accounts, account_id, "Account") if account_id else contacts.create_account(ctx.state, body)
    )
    contacts.link_account(ctx.state, contact, account["id"])
    return public(account)


_C = "/rest/accounts/contacts/{contact_id:int}"
ROUTES: list[RouteSpec] = [
    ("GET", "/rest/accounts/contacts", list_contacts),
    ("POST", "/rest/accounts/contacts", create_contact),
    ("GET", _C, get_contact),
    ("PUT", _C, update_contact),
    ("GET", f"{_C}/addresses", contact_addresses),
    ("GET", f"{_C}/addresses/{{type_id:int}}", contact_addresses),
    ("POST", f"{_C}/addresses", add_address),
    ("PUT", f"{_C}/addresses/{{address_id:int}}", update_address),
    ("POST", f"{_C}/accounts", link_account),
    ("GET", "/rest/accounts", list_accounts),
    ("POST", "/rest/accounts", create_account),
    ("GET", "/rest/accounts/{account_id:int}", get_account),
]
