"""Every route the sandboxes serve must be a spec operation or an allow-listed route, and the allow-list must not
carry entries nothing needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.contract.allowlist import AllowList
from tests.contract.exchanges import import_sandbox, sandbox_factory
from tests.contract.introspect import sample_path, sandbox_routes
from tests.contract.specs import SYSTEMS, System
from tests.contract.validate import ContractValidator, assert_no_stale_allowlist_entries


def url_template(system: System, template: str) -> str:
    """The Magento sandbox's own route table holds templates below ``/V1`` (with or without it); it serves them under
    ``/rest[/<store>]/V1``."""
    if system != "magento" or template.startswith("/rest/"):
        return template
    return "/rest" + template if template.startswith("/V1/") else "/rest/V1" + template


def served_routes(system: System) -> list[tuple[str, str]]:
    app = sandbox_factory(system)()
    routes = [(method, url_template(system, template)) for method, template in sandbox_routes(app)]
    if not routes:
        pytest.skip(f"the {system} sandbox exposes no route table to introspect")
    return routes


def uncovered_routes(validator: ContractValidator, system: System, routes: list[tuple[str, str]]) -> list[str]:
    return [
        f"{method} {template}"
        for method, template in routes
        if validator.covers(system, method, sample_path(template)) is None
    ]


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_sandbox_route_is_in_the_spec_or_allow_listed(
    contract_validator: ContractValidator, system: System
) -> None:
    missing = uncovered_routes(contract_validator, system, served_routes(system))

    assert not missing, f"{system} sandbox routes neither in the spec nor in allowlist.toml:\n" + "\n".join(missing)


def test_allow_list_has_no_stale_entries(plenty_spec: Mapping[str, Any], magento_spec: Mapping[str, Any]) -> None:
    """Clients only call what the sandboxes serve, so an entry no sandbox route needs is needed by nothing."""
    if any(import_sandbox(system) is None for system in SYSTEMS):
        pytest.skip("needs both sandboxes importable")
    validator = ContractValidator({"plenty": plenty_spec, "magento": magento_spec}, AllowList.load())
    for system in SYSTEMS:
        uncovered_routes(validator, system, served_routes(system))

    assert_no_stale_allowlist_entries(validator)
