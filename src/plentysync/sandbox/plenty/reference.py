"""Reference data of a freshly set up PlentyONE system (webstore, warehouse, statuses, ...)."""

from __future__ import annotations

from plentysync.sandbox.plenty.state import PlentyState

STATUSES: tuple[tuple[float, str, str], ...] = (
    (1.0, "Unvollständige Daten", "Incomplete data"),
    (2.0, "Warten auf Freischaltung", "Awaiting approval"),
    (3.0, "Warten auf Zahlung", "Awaiting payment"),
    (4.0, "In Vorbereitung für Versand", "In preparation for shipping"),
    (5.0, "Freigabe Versand", "Cleared for shipping"),
    (5.7, "Wird kommissioniert", "Being picked"),
    (6.0, "Gerade im Versand", "Currently being shipped"),
    (7.0, "Warenausgang gebucht", "Outgoing items booked"),
    (8.0, "Storniert", "Canceled"),
    (9.0, "Retoure", "Return"),
    (10.0, "Gewährleistung", "Warranty"),
    (11.0, "Gutschrift", "Credit note"),
)
REFERRERS: tuple[tuple[float, str], ...] = (
    (0.0, "Manual entry"),
    (1.0, "Client (store)"),
    (4.01, "Amazon Germany"),
    (2.08, "eBay Germany"),
)
PAYMENT_METHODS: tuple[tuple[int, str, str], ...] = (
    (2, "Prepayment", "PREPAYMENT"),
    (6000, "PayPal", "PAYPAL"),
    (6001, "Check / money order", "CHECKMO"),
    (6002, "Free of charge", "FREE"),
)
COUNTRIES: tuple[tuple[int, str, str, str], ...] = (
    (1, "DE", "DEU", "Germany"),
    (2, "AT", "AUT", "Austria"),
    (3, "BE", "BEL", "Belgium"),
    (4, "CH", "CHE", "Switzerland"),
    (7, "DK", "DNK", "Denmark"),
    (8, "ES", "ESP", "Spain"),
    (10, "FR", "FRA", "France"),
    (12, "GB", "GBR", "United Kingdom"),
    (15, "IT", "ITA", "Italy"),
    (17, "LU", "LUX", "Luxembourg"),
    (21, "NL", "NLD", "Netherlands"),
    (23, "PL", "POL", "Poland"),
    (24, "SE", "SWE", "Sweden"),
    (28, "US", "USA", "United States of America"),
)
EU_COUNTRIES = {"DE", "AT", "BE", "DK", "ES", "FR", "IT", "LU", "NL", "PL", "SE"}
UNITS: tuple[tuple[int, str], ...] = ((1, "C62"), (2, "KGM"), (3, "GRM"), (5, "LTR"), (31, "MTR"))


def country_id(iso2: str) -> int:
    for cid, code, _, _ in COUNTRIES:
        if code == iso2.upper():
            return cid
    return 1


def add_reference_data(state: PlentyState) -> None:
    now = state.now()
    pid = state.plenty_id
    state.webstores = [
        {
            "id": 0,
            "type": "plentymarkets",
            "storeIdentifier": pid,
            "name": "Sandbox Shop",
            "pluginSetId": 1,
            "configuration": {
                "name": "Sandbox Shop",
                "defaultLanguage": "de",
                "languageList": "de, en",
                "defaultCurrency": "EUR",
                "defaultShippingCountryId": 1,
                "domain": "http://sandbox.invalid",
                "domainSsl": "https://sandbox.invalid",
            },
        }
    ]
    add_warehouse(state, 1, "Hauptlager")
    state.statuses = [
        {
            "statusId": sid,
            "names": {"de": f"[{sid:g}] {de}", "en": f"[{sid:g}] {en}"},
            "isErasable": sid not in (1.0, 3.0, 5.0, 7.0, 8.0),
            "isFrontendVisible": True,
            "isReorderVisible": False,
            "isRedistributionVisible": False,
            "color": "#cccccc",
            "createdAt": now,
            "updatedAt": now,
        }
        for sid, de, en in STATUSES
    ]
    state.referrers = [
        {
            "id": rid,
            "isEditable": rid >= 2,
            "backendName": name,
            "name": name,
            "orderOwnerId": None,
            "isFilterable": True,
            "origin": "plenty",
            "showInLeads": False,
        }
        for rid, name in REFERRERS
    ]
    state.shipping_presets = [
        {
            "id": 6,
            "parcelServiceId": 101,
            "backendName": "DHL Paket",
            "flag": 0,
            "priority": 1,
            "category": 0,
            "isCod": 0,
            "isExpress": 0,
            "supportedMultishop": ["-1"],
            "supportedReferrer": ["-1"],
            "excludedPaymentMethods": [],
            "shippingGroup": "",
            "updatedAt": now,
        }
    ]
    state.countries = [
        {
            "id": cid,
            "name": name,
            "shippingDestinationId": 1,
            "active": 1,
            "storehouseId": 0,
            "isoCode2": iso2,
            "isoCode3": iso3,
            "lang": "de",
            "isCountryStateMandatory": False,
            "vatCodes": [],
        }
        for cid, iso2, iso3, name in COUNTRIES
    ]
    state.payment_methods = [
        {"id": mid, "pluginKey": "plenty", "paymentKey": key, "name": name, "isDocumentBuilderActive": False}
        for mid, name, key in PAYMENT_METHODS
    ]
    state.contact_classes = {"1": "Endkunden", "2": "Händler", "3": "Wiederverkäufer"}
    state.vat_standard = {
        "id": 1,
        "countryId": 1,
        "taxIdNumber": "",
        "startedAt": "2021-01-01T00:00:00+01:00",
        "invalidFrom": None,
        "locationId": 1,
        "marginScheme": "none",
        "isRestrictedToDigitalItems": False,
        "isStandard": True,
        "isActive": True,
        "createdAt": now,
        "updatedAt": now,
        "vatRates": [
            {"id": 0, "name": "Normal", "vatRate": 19.0},
            {"id": 1, "name": "Ermäßigt", "vatRate": 7.0},
            {"id": 2, "name": "Steuerfrei", "vatRate": 0.0},
            {"id": 3, "name": "Steuerfrei", "vatRate": 0.0},
        ],
    }
    state.units = [
        {
            "id": uid,
            "position": i,
            "unitOfMeasurement": code,
            "isDecimalPlacesAllowed": uid != 1,
            "createdAt": now,
            "updatedAt": now,
        }
        for i, (uid, code) in enumerate(UNITS)
    ]
    state.sales_prices = [
        {
            "id": 1,
            "position": 0,
            "minimumOrderQuantity": 1,
            "type": "default",
            "isCustomerPrice": False,
            "isDisplayedByDefault": True,
            "isLiveConversion": False,
            "interval": "none",
            "names": [
                {"salesPriceId": 1, "lang": "de", "nameInternal": "Preis", "nameExternal": "Preis"},
                {"salesPriceId": 1, "lang": "en", "nameInternal": "Price", "nameExternal": "Price"},
            ],
            "countries": [{"countryId": -1}],
            "currencies": [{"currency": "-1"}],
            "customerClasses": [{"customerClassId": -1}],
            "referrers": [{"referrerId": 0}],
            "clients": [{"plentyId": -1}],
            "accounts": [],
            "createdAt": now,
            "updatedAt": now,
        }
    ]
    state.barcode_types = [{"id": 1, "name": "EAN", "type": "GTIN_13"}]
    state.properties = {
        1: {
            "id": 1,
            "cast": "shortText",
            "type": "item",
            "position": 0,
            "names": [{"lang": "de", "name": "Material"}],
            "groups": [],
            "createdAt": now,
            "updatedAt": now,
        },
    }


def add_warehouse(state: PlentyState, warehouse_id: int, name: str) -> None:
    now = state.now()
    state.warehouses[warehouse_id] = {
        "id": warehouse_id,
        "name": name,
        "note": "",
        "typeId": 0,
        "priority": warehouse_id - 1,
        "allocationReferrerIds": [],
        "onStockAvailability": 1,
        "outOfStockAvailability": 1,
        "splitByShippingProfile": False,
        "storageLocationType": "none",
        "storageLocationZone": 0,
        "repairWarehouseId": None,
        "isInventoryModeActive": False,
        "logisticsType": "own",
        "updatedAt": now,
        "createdAt": now,
    }
