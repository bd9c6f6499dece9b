"""A handful of raw requests to each seeded sandbox, every recorded exchange validated against the spec.

The client tours (added later) cover far more; these keep the sandbox responses honest on their own."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from plentysync.sandbox.catalog import generate
from tests.contract.exchanges import SANDBOX_FACTORIES, recorded_sandbox, sandbox_factory
from tests.contract.specs import System
from tests.contract.validate import ContractValidator


def _seeded(system: System) -> dict[str, Any]:
    """Factory options for a sandbox seeded from the small demo catalog (Magento: bearer auth switched on)."""
    sandbox_factory(system)
    package = pytest.importorskip(SANDBOX_FACTORIES[system][0])
    catalog = generate(size=1, seed=7)
    if system == "plenty":
        state = package.PlentyState.minimal()
        state.load_catalog(catalog)
        return {"state": state}
    state = package.MagentoState()
    state.load_catalog(catalog)
    return {"state": state, "config": package.MagentoSandboxConfig(integration_as_bearer=True)}


def test_plenty_sandbox_answers_conform(contract_validator: ContractValidator) -> None:
    with (
        recorded_sandbox("plenty", **_seeded("plenty")) as (url, recorder, _state),
        httpx2.Client(base_url=url) as http,
    ):
        login = http.post("/rest/login", json={"username": "sandbox-api", "password": "sandbox-password"})
        assert login.status_code == 200
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        for path, params in [
            ("/rest/webstores", {}),
            ("/rest/stockmanagement/warehouses", {}),
            ("/rest/orders/statuses", {}),
            ("/rest/orders/referrers", {}),
            ("/rest/accounts/contacts/classes", {}),
            ("/rest/items", {"itemsPerPage": "5"}),
            ("/rest/items/variations", {"with": "variationBarcodes,variationSalesPrices,stock", "itemsPerPage": "5"}),
            ("/rest/categories", {"with": "details"}),
            ("/rest/stockmanagement/stock", {"itemsPerPage": "5"}),
            ("/rest/orders", {"itemsPerPage": "5", "with[]": "addresses"}),
            ("/rest/accounts/contacts", {"with": "addresses"}),
            ("/rest/properties", {}),
            ("/rest/items/999999", {}),
        ]:
            http.get(path, params=params)
        http.put(
            "/rest/stockmanagement/warehouses/1/stock/bookOutgoingItems",
            json={"outgoingItems": [{"variationId": 1, "quantity": 1, "reasonId": 999}]},
        )

    contract_validator.assert_valid(recorder.exchanges())


def test_magento_sandbox_answers_conform(contract_validator: ContractValidator) -> None:
    headers = {"Authorization": "Bearer sandbox-access-token"}
    with (
        recorded_sandbox("magento", **_seeded("magento")) as (url, recorder, _state),
        httpx2.Client(base_url=url, headers=headers) as http,
    ):
        page = {"searchCriteria[pageSize]": "5", "searchCriteria[currentPage]": "1"}
        for path, params in [
            ("/rest/V1/store/storeViews", {}),
            ("/rest/V1/store/websites", {}),
            ("/rest/V1/directory/countries", {}),
            ("/rest/all/V1/products", page),
            ("/rest/default/V1/categories", {}),
            ("/rest/V1/customers/search", page),
            ("/rest/V1/orders", page),
            ("/rest/V1/inventory/sources", {}),
            ("/rest/V1/inventory/source-items", page),
            ("/rest/V1/products", {**page, "fields": "items[sku,name],total_count"}),
            ("/rest/V1/products/NO-SUCH-SKU", {}),
        ]:
            http.get(path, params=params)

    contract_validator.assert_valid(recorder.exchanges())
