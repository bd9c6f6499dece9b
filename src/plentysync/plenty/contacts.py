"""Contacts, their addresses, accounts (companies) and customer classes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from plentysync.errors import SyncError
from plentysync.plenty.models.contacts import (
    Account,
    AccountCreate,
    Address,
    AddressCreate,
    Contact,
    ContactCreate,
    CustomerClass,
)
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient

BILLING = 1
DELIVERY = 2


class ContactsResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    def list_contacts(
        self,
        *,
        email: str | None = None,
        external_id: str | None = None,
        number: str | None = None,
        updated_after: str | None = None,
        with_: Sequence[str] = (),
        items_per_page: int | None = None,
    ) -> AsyncIterator[Contact]:
        """Stream contacts; ``updated_after`` is a date ``yyyy-mm-dd`` (this route takes no times)."""
        params = query(
            {"email": email, "externalId": external_id, "number": number, "updatedAtAfter": updated_after},
            with_=with_,
        )
        return self.client.paginate("/rest/accounts/contacts", Contact, params, items_per_page=items_per_page)

    async def find_by_email(self, email: str, *, include_guests: bool = False) -> list[Contact]:
        """Contacts with exactly this e-mail; guest contacts (``singleAccess``) skipped by default."""
        found: list[Contact] = []
        async for contact in self.list_contacts(email=email):
            if contact.is_guest and not include_guests:
                continue
            found.append(contact)
        return found

    async def get(self, contact_id: int, *, with_: Sequence[str] = ()) -> Contact:
        return await self.client.get_one(f"/rest/accounts/contacts/{contact_id}", Contact, query({}, with_=with_))

    async def create(self, contact: ContactCreate) -> Contact:
        """Create a contact. NOT idempotent: search by e-mail / external id first."""
        return await self.client.write_one("POST", "/rest/accounts/contacts", Contact, json=contact.payload())

    async def add_address(
        self, contact_id: int, address: AddressCreate, *, type_id: int = BILLING, primary: bool | None = None
    ) -> Address:
        """Create an address for the contact (``type_id`` 1 billing, 2 delivery). The server
        de-duplicates: an identical address is re-used, so the id may be an old one — which also
        makes repeating this call harmless."""
        path = f"/rest/accounts/contacts/{contact_id}/addresses"
        params = query({"typeId": type_id, "isPrimary": primary})
        body = address.payload()
        return await self.client.write_one("POST", path, Address, json=body, params=params, idempotent=True)

    async def addresses(self, contact_id: int, type_id: int | None = None) -> list[Address]:
        path = f"/rest/accounts/contacts/{contact_id}/addresses" + ("" if type_id is None else f"/{type_id}")
        return await self.client.get_list(path, Address)

    async def list_accounts(self) -> list[Account]:
        """Companies (``/rest/accounts``: a plain array on the servers)."""
        return await self.client.get_list("/rest/accounts", Account)

    async def get_account(self, account_id: int) -> Account:
        return await self.client.get_one(f"/rest/accounts/{account_id}", Account)

    async def create_account(self, account: AccountCreate) -> Account:
        return await self.client.write_one("POST", "/rest/accounts", Account, json=account.payload())

    async def customer_classes(self) -> list[CustomerClass]:
        """Customer classes; the server answers an object map ``{"1": "Standard", ...}``."""
        body = await self.client.call("GET", "/rest/accounts/contacts/classes")
        return parse_customer_classes(body)


def parse_customer_classes(body: Any) -> list[CustomerClass]:
    if body is None:
        return []
    if isinstance(body, dict):
        return [CustomerClass(id=int(key), name=str(value)) for key, value in body.items()]
    if isinstance(body, list):
        return [CustomerClass.model_validate(entry) for entry in body if isinstance(entry, dict)]
    raise SyncError(f"PlentyONE answered {type(body).__name__} for the customer classes")
