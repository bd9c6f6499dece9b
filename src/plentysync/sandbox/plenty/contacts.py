"""Contacts, addresses (with the server-side duplicate check) and company accounts (notes §11)."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty.errors import Validator
from plentysync.sandbox.plenty.state import PlentyState, Record, public

_CONTACT_FIELDS = (
    "externalId",
    "number",
    "typeId",
    "firstName",
    "lastName",
    "gender",
    "title",
    "formOfAddress",
    "newsletterAllowanceAt",
    "classId",
    "blocked",
    "rating",
    "bookAccount",
    "lang",
    "referrerId",
    "plentyId",
    "userId",
    "birthdayAt",
    "lastOrderAt",
    "singleAccess",
    "privatePhone",
    "privateMobile",
    "privateFax",
    "ebayName",
    "paypalEmail",
)
_ADDRESS_FIELDS = (
    "gender",
    "name1",
    "name2",
    "name3",
    "name4",
    "address1",
    "address2",
    "address3",
    "address4",
    "postalCode",
    "town",
    "countryId",
    "stateId",
    "readOnly",
)
# Address option typeId -> read-only alias on the address.
_ADDRESS_OPTION_ALIASES = {
    1: "taxIdNumber",
    2: "externalId",
    4: "phone",
    5: "email",
    6: "postident",
    7: "personalNumber",
    8: "fsk",
    9: "birthday",
    10: "sessionId",
    11: "title",
    12: "contactPerson",
    13: "externalCustomerId",
}
EMAIL_OPTION = (2, 4)
PHONE_OPTION = (1, 4)


def validate_contact(body: dict[str, Any]) -> None:
    v = Validator()
    v.require(body, "typeId")
    v.require(body, "referrerId")
    v.check()


def _set_option(state: PlentyState, contact: Record, type_id: int, sub_type_id: int, value: str) -> None:
    options: list[Record] = contact["options"]
    for option in options:
        if option["typeId"] == type_id and option["subTypeId"] == sub_type_id:
            option["value"] = value
            option["updatedAt"] = state.now()
            return
    options.append(
        {
            "id": state.next_id("contact_option"),
            "contactId": contact["id"],
            "typeId": type_id,
            "subTypeId": sub_type_id,
            "value": value,
            "priority": 0,
            "createdAt": state.now(),
            "updatedAt": state.now(),
        }
    )


def _option(contact: Record, type_id: int, sub_type_id: int) -> str | None:
    for option in contact["options"]:
        if option["typeId"] == type_id and option["subTypeId"] == sub_type_id:
            return str(option["value"])
    return None


def _apply_contact(state: PlentyState, contact: Record, body: dict[str, Any]) -> None:
    for key in _CONTACT_FIELDS:
        if key in body:
            contact[key] = body[key]
    for option in body.get("options") or []:
        _set_option(state, contact, int(option["typeId"]), int(option.get("subTypeId", 4)), str(option["value"]))
    if body.get("email"):
        _set_option(state, contact, *EMAIL_OPTION, str(body["email"]))
    contact["email"] = _option(contact, *EMAIL_OPTION) or ""
    contact["privatePhone"] = _option(contact, *PHONE_OPTION) or contact.get("privatePhone", "")
    contact["referrerId"] = float(contact["referrerId"])
    contact["fullName"] = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
    contact["updatedAt"] = state.now()


def create_contact(state: PlentyState, body: dict[str, Any]) -> Record:
    validate_contact(body)
    now = state.now()
    contact_id = state.next_id("contact", 100)
    contact: Record = {
        "id": contact_id,
        "externalId": None,
        "number": str(contact_id),
        "typeId": 1,
        "firstName": "",
        "lastName": "",
        "fullName": "",
        "email": "",
        "gender": None,
        "title": "",
        "formOfAddress": "",
        "newsletterAllowanceAt": None,
        "classId": None,
        "blocked": 0,
        "rating": 0,
        "bookAccount": "",
        "lang": "de",
        "referrerId": 1.0,
        "plentyId": state.plenty_id,
        "userId": None,
        "birthdayAt": None,
        "lastLoginAt": None,
        "lastOrderAt": None,
        "createdAt": now,
        "updatedAt": now,
        "privatePhone": "",
        "privateFax": "",
        "privateMobile": "",
        "ebayName": "",
        "paypalEmail": "",
        "singleAccess": "0",
        "options": [],
        "_accountIds": [],
    }
    _apply_contact(state, contact, body)
    state.contacts[contact_id] = contact
    return contact


def update_contact(state: PlentyState, contact: Record, body: dict[str, Any]) -> None:
    _apply_contact(state, contact, body)


def render_contact(state: PlentyState, contact: Record, with_: set[str]) -> Record:
    out = public(contact)
    if "addresses" in with_:
        out["addresses"] = []
        for rel in state.contact_addresses:
            if rel["contactId"] == contact["id"] and rel["addressId"] in state.addresses:
                entry = render_address(state.addresses[rel["addressId"]])
                entry["pivot"] = dict(rel)
                out["addresses"].append(entry)
    if "accounts" in with_:
        out["accounts"] = [public(state.accounts[a]) for a in contact["_accountIds"] if a in state.accounts]
    return out


def validate_address(body: dict[str, Any], path: str = "") -> None:
    v = Validator()
    v.require(body, "countryId", path)
    v.require(body, "town", path)
    v.check()


def _address_key(address: dict[str, Any]) -> tuple[Any, ...]:
    fields = tuple(str(address.get(f) or "").strip().lower() for f in _ADDRESS_FIELDS if f != "readOnly")
    options = tuple(sorted((int(o["typeId"]), str(o["value"]).strip().lower()) for o in address.get("options") or []))
    return (*fields, options)


def _new_address(state: PlentyState, body: dict[str, Any]) -> Record:
    now = state.now()
    address: Record = {"id": state.next_id("address", 10)}
    for field in _ADDRESS_FIELDS:
        address[field] = body.get(field)
    address["countryId"] = int(body["countryId"])
    address["readOnly"] = bool(body.get("readOnly", False))
    address["options"] = [
        {
            "id": state.next_id("address_option"),
            "addressId": address["id"],
            "typeId": int(o["typeId"]),
            "value": str(o["value"]),
            "position": 0,
        }
        for o in body.get("options") or []
    ]
    address["isPackstation"] = bool(body.get("isPackstation", False))
    address["isPostfiliale"] = bool(body.get("isPostfiliale", False))
    address["createdAt"] = now
    address["updatedAt"] = now
    address["checkedAt"] = None
    state.addresses[address["id"]] = address
    return address


def add_address(
    state: PlentyState, contact_id: int | None, body: dict[str, Any], type_id: int, *, is_primary: bool = False
) -> Record:
    """Create an address for a contact, or re-use an identical one the contact already has (the
    server-side duplicate check), and relate it with ``type_id``. ``contact_id=None``: a standalone
    address (guest orders)."""
    validate_address(body)
    address = None
    if contact_id is not None:
        key = _address_key(body)
        address = next((a for a in state.addresses_of(contact_id) if _address_key(a) == key), None)
    if address is None:
        address = _new_address(state, body)
    if contact_id is not None:
        exists = any(
            r["contactId"] == contact_id and r["addressId"] == address["id"] and r["typeId"] == type_id
            for r in state.contact_addresses
        )
        if not exists:
            state.contact_addresses.append(
                {
                    "id": state.next_id("contact_address"),
                    "contactId": contact_id,
                    "addressId": address["id"],
                    "typeId": type_id,
                    "isPrimary": is_primary,
                }
            )
        state.contacts[contact_id]["updatedAt"] = state.now()
    return address


def update_address(state: PlentyState, address: Record, body: dict[str, Any]) -> None:
    for field in _ADDRESS_FIELDS:
        if field in body:
            address[field] = body[field]
    if "options" in body:
        address["options"] = [
            {
                "id": state.next_id("address_option"),
                "addressId": address["id"],
                "typeId": int(o["typeId"]),
                "value": str(o["value"]),
                "position": 0,
            }
            for o in body.get("options") or []
        ]
    address["updatedAt"] = state.now()


def render_address(address: Record) -> Record:
    """The stored address plus the read-only aliases real responses carry."""
    out = public(address)
    out.update(
        {
            "companyName": address.get("name1") or "",
            "firstName": address.get("name2") or "",
            "lastName": address.get("name3") or "",
            "careOf": address.get("name4") or "",
            "street": address.get("address1") or "",
            "houseNumber": address.get("address2") or "",
            "additional": address.get("address3") or "",
            "packstationNo": address.get("address2") if address.get("isPackstation") else "",
        }
    )
    for alias in _ADDRESS_OPTION_ALIASES.values():
        out.setdefault(alias, "")
    for option in address.get("options") or []:
        option_alias = _ADDRESS_OPTION_ALIASES.get(option["typeId"])
        if option_alias:
            out[option_alias] = option["value"]
    out["entryCertificate"] = bool(out.get("entryCertificate"))
    return out


def create_account(state: PlentyState, body: dict[str, Any]) -> Record:
    now = state.now()
    account_id = state.next_id("account", 10)
    account: Record = {
        "id": account_id,
        "number": str(body.get("number") or account_id),
        "companyName": str(body.get("companyName") or ""),
        "taxIdNumber": str(body.get("taxIdNumber") or ""),
        "valuta": int(body.get("valuta", 0) or 0),
        "discountDays": int(body.get("discountDays", 0) or 0),
        "discountPercent": float(body.get("discountPercent", 0) or 0),
        "timeForPaymentAllowedDays": int(body.get("timeForPaymentAllowedDays", 0) or 0),
        "salesRepresentativeContactId": body.get("salesRepresentativeContactId"),
        "userId": body.get("userId"),
        "deliveryTime": int(body.get("deliveryTime", 0) or 0),
        "dealerMinOrderValue": float(body.get("dealerMinOrderValue", 0) or 0),
        "supplierCurrency": str(body.get("supplierCurrency") or "EUR"),
        "createdAt": now,
        "updatedAt": now,
    }
    state.accounts[account_id] = account
    return account


def link_account(state: PlentyState, contact: Record, account_id: int) -> None:
    if account_id not in contact["_accountIds"]:
        contact["_accountIds"].append(account_id)
        contact["updatedAt"] = state.now()
