from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json

import httpx2
import pytest
from oauthlib.oauth1.rfc5849 import signature, utils

from plentysync.errors import FatalError
from plentysync.magento import AdminCredentials, OAuthCredentials, SearchCriteria
from plentysync.magento.models.products import ProductInput
from tests.unit.magento.support import FakeMagento, reply

OAUTH = OAuthCredentials("ck", "cs", "at", "ats")


def _verify(request: httpx2.Request) -> bool:
    """Check the signature the way a server does, from the raw request only."""
    header = request.headers["Authorization"]
    params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    collected = signature.collect_parameters(
        uri_query=request.url.query.decode(), headers={"Authorization": header}, exclude_oauth_signature=True
    )
    url = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.raw_path.decode().split('?')[0]}"
    base = signature.signature_base_string(
        request.method, signature.base_string_uri(url), signature.normalize_parameters(collected)
    )
    expected = base64.b64encode(hmac.new(b"cs&ats", base.encode(), hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, params["oauth_signature"])


@pytest.mark.anyio
async def test_oauth_signs_bracket_queries_and_json_writes() -> None:
    fake = FakeMagento()
    fake.on("GET", "/rest/default/V1/products", {"items": [], "total_count": 0})
    fake.on("POST", "/rest/all/V1/products", {"sku": "a b/c"})
    async with fake.client(OAUTH) as client:
        criteria = SearchCriteria().where("updated_at", "2024-05-01 00:00:00", "gteq").where("name", "%x y%", "like")
        assert [p async for p in client.products.search(criteria)] == []
        await client.products.save(ProductInput(sku="a b/c", name="Ä"))
    assert len(fake.requests) == 2
    assert all(_verify(r) for r in fake.requests)
    assert "%5B" in fake.requests[0].url.query.decode()


@pytest.mark.anyio
async def test_oauth_401_is_fatal_and_names_the_cause() -> None:
    fake = FakeMagento()
    body = {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Sales::sales"},
    }
    fake.on("GET", "/rest/default/V1/orders/1", reply(body, 401))
    async with fake.client(OAUTH) as client:
        with pytest.raises(FatalError) as caught:
            await client.orders.get(1)
    assert len(fake.requests) == 1
    text = str(caught.value)
    assert "Magento_Sales::sales" in text
    assert "%resources" not in text
    assert "not activated" in text


@pytest.mark.anyio
async def test_bearer_401_mentions_integration_as_bearer() -> None:
    fake = FakeMagento()
    fake.on("GET", "/rest/default/V1/store/websites", reply({"message": "The consumer isn't authorized"}, 401))
    async with fake.client() as client:
        with pytest.raises(FatalError, match="standalone Bearer"):
            await client.stores.websites()
    assert fake.requests[0].headers["Authorization"] == "Bearer tkn"


def _admin_fake(tokens: list[str]) -> FakeMagento:
    fake = FakeMagento()
    issued = iter(tokens)
    valid: set[str] = set()

    def login(request: httpx2.Request) -> httpx2.Response:
        assert json.loads(request.content) == {"username": "admin", "password": "pw"}
        token = next(issued)
        valid.clear()
        valid.add(token)
        return reply(token)

    def websites(request: httpx2.Request) -> httpx2.Response:
        if request.headers["Authorization"].removeprefix("Bearer ") in valid:
            return reply([{"id": 1, "code": "base"}])
        return reply({"message": "The consumer isn't authorized to access %resources."}, 401)

    fake.on("POST", "/rest/default/V1/integration/admin/token", login)
    fake.on("GET", "/rest/default/V1/store/websites", websites)
    fake.valid = valid  # type: ignore[attr-defined]
    return fake


@pytest.mark.anyio
async def test_admin_token_single_flight_login() -> None:
    fake = _admin_fake(["t1", "t2"])
    async with fake.client(AdminCredentials("admin", "pw")) as client:
        results = await asyncio.gather(*(client.stores.websites() for _ in range(5)))
    assert all(r[0].code == "base" for r in results)
    assert len(fake.sent("POST", "/rest/default/V1/integration/admin/token")) == 1


@pytest.mark.anyio
async def test_admin_token_relogin_once_on_401() -> None:
    fake = _admin_fake(["t1", "t2", "t3"])
    async with fake.client(AdminCredentials("admin", "pw")) as client:
        await client.stores.websites()
        fake.valid.clear()  # type: ignore[attr-defined]
        results = await asyncio.gather(*(client.stores.websites() for _ in range(3)))
    assert all(r for r in results)
    assert len(fake.sent("POST", "/rest/default/V1/integration/admin/token")) == 2


@pytest.mark.anyio
async def test_admin_token_refused_by_2fa_is_fatal_and_suggests_an_integration() -> None:
    fake = FakeMagento()
    refusal = {
        "message": "Please use the 2fa provider-specific endpoints to obtain a token.",
        "parameters": {"active_providers": ["google"]},
    }
    fake.on("POST", "/rest/default/V1/integration/admin/token", reply(refusal, 401))
    async with fake.client(AdminCredentials("admin", "pw")) as client:
        with pytest.raises(FatalError, match="Integration"):
            await client.stores.websites()
    assert len(fake.requests) == 1


@pytest.mark.anyio
async def test_admin_token_wrong_password_is_fatal() -> None:
    fake = FakeMagento()
    fake.on(
        "POST", "/rest/default/V1/integration/admin/token", reply({"message": "The account sign-in was incorrect"}, 401)
    )
    async with fake.client(AdminCredentials("admin", "pw")) as client:
        with pytest.raises(FatalError, match="username and password"):
            await client.stores.websites()
