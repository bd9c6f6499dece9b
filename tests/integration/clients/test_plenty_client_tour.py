from __future__ import annotations

import pytest

from tests.integration.clients.plenty_support import plenty_sandbox
from tests.integration.clients.plenty_tour import tour

pytestmark = pytest.mark.anyio


async def test_tour_of_every_client_method() -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        async with sandbox.client() as plenty:
            await tour(plenty, sandbox.state)
    failed = [(e.method, e.path, e.status) for e in sandbox.recorder.exchanges() if e.status >= 400]
    assert not failed
