from __future__ import annotations

import asyncio

import httpx2
import pytest

from plentysync.errors import FatalError, RateLimitedError
from tests.unit.plenty.fakes import CREDENTIALS, FakePlenty, bearer, body_of, json_response

pytestmark = pytest.mark.anyio


def user_route(fake: FakePlenty) -> None:
    fake.routes["GET /rest/user"] = json_response({"id": 7})


async def test_concurrent_callers_cause_one_login() -> None:
    fake = FakePlenty()
    user_route(fake)
    async with fake.client() as plenty:
        users = await asyncio.gather(*(plenty.whoami() for _ in range(10)))
    assert [u.id for u in users] == [7] * 10
    assert fake.logins == 1
    assert body_of(fake.sent("POST", "/rest/login")[0]) == {
        "username": CREDENTIALS.username,
        "password": CREDENTIALS.password,
    }


@pytest.mark.parametrize(("snake", "camel"), [(True, False), (False, True), (True, True)])
async def test_either_token_key_spelling_works(snake: bool, camel: bool) -> None:
    fake = FakePlenty(token_kwargs={"snake": snake, "camel": camel})
    user_route(fake)
    async with fake.client() as plenty:
        await plenty.whoami()
    assert bearer(fake.sent("GET", "/rest/user")[0]) == "at-1"


async def test_401_refreshes_once_and_repeats_the_request() -> None:
    fake = FakePlenty()
    user_route(fake)
    async with fake.client() as plenty:
        await plenty.whoami()
        fake.valid.clear()
        await asyncio.gather(*(plenty.whoami() for _ in range(5)))
    assert fake.logins == 1
    assert fake.refreshes == 1
    refresh = fake.sent("POST", "/rest/login/refresh")[0]
    assert refresh.url.params["refresh_token"] == "rt-1"
    assert bearer(fake.sent("GET", "/rest/user")[-1]) == "at-2"


async def test_rejected_refresh_falls_back_to_a_full_login() -> None:
    fake = FakePlenty(refresh_ok=False)
    user_route(fake)
    async with fake.client() as plenty:
        await plenty.whoami()
        fake.valid.clear()
        await plenty.whoami()
    assert fake.logins == 2
    assert len(fake.sent("POST", "/rest/login/refresh")) == 1


async def test_token_is_renewed_shortly_before_it_expires() -> None:
    now = [1000.0]
    fake = FakePlenty(token_kwargs={"expires_in": 86400})
    user_route(fake)
    plenty = fake.client(refresh_margin=600)
    plenty.auth.clock = lambda: now[0]
    async with plenty:
        await plenty.whoami()
        now[0] += 86400 - 600 - 1
        await plenty.whoami()
        assert not fake.sent("POST", "/rest/login/refresh")
        now[0] += 2
        await plenty.whoami()
    assert len(fake.sent("POST", "/rest/login/refresh")) == 1
    assert fake.sent("GET", "/rest/user")[-1].headers["Authorization"] == "Bearer at-2"


async def test_wrong_credentials_are_fatal_and_the_message_hides_the_password() -> None:
    fake = FakePlenty(
        login_response=json_response(
            {"error": "invalid_credentials", "message": "The user credentials were incorrect."}, 401
        )
    )
    async with fake.client() as plenty:
        with pytest.raises(FatalError) as caught:
            await plenty.whoami()
    assert CREDENTIALS.username in str(caught.value)
    assert CREDENTIALS.password not in str(caught.value)
    assert CREDENTIALS.password not in repr(CREDENTIALS)


async def test_session_cap_raises_rate_limited_with_a_retry_after() -> None:
    body = {"error": "too_many_concurrent_sessions", "max_current_sessions": 3, "message": "Too many users."}
    fake = FakePlenty(login_response=json_response(body, 429))
    async with fake.client(session_cap_retry_after=42.0) as plenty:
        with pytest.raises(RateLimitedError) as caught:
            await plenty.login()
    assert caught.value.retry_after == 42.0
    assert "concurrent sessions" in str(caught.value)


async def test_session_cap_honours_retry_after_header() -> None:
    body = {"error": "too_many_concurrent_sessions"}
    fake = FakePlenty(login_response=json_response(body, 429, {"Retry-After": "7"}))
    async with fake.client() as plenty:
        with pytest.raises(RateLimitedError) as caught:
            await plenty.login()
    assert caught.value.retry_after == 7.0


async def test_session_cap_during_a_request_is_waited_out_then_the_request_succeeds() -> None:
    fake = FakePlenty()
    user_route(fake)
    answers = iter([httpx2.Response(429, json={"error": "too_many_concurrent_sessions"}, headers={"Retry-After": "0"})])

    def login(request: httpx2.Request) -> httpx2.Response:
        try:
            return next(answers)
        except StopIteration:
            fake.login_response = None
            return fake(request)

    fake.login_response = login
    async with fake.client() as plenty:
        assert (await plenty.whoami()).id == 7
    assert fake.logins == 1


async def test_close_logs_out_with_the_current_token() -> None:
    fake = FakePlenty()
    user_route(fake)
    async with fake.client() as plenty:
        await plenty.whoami()
    logout = fake.sent("POST", "/rest/logout")
    assert len(logout) == 1
    assert bearer(logout[0]) == "at-1"
    assert "at-1" not in fake.valid


async def test_close_without_login_sends_nothing() -> None:
    fake = FakePlenty()
    async with fake.client():
        pass
    assert fake.requests == []
