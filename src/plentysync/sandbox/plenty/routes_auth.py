"""``/rest/login``, ``/rest/login/refresh``, ``/rest/logout``, ``/rest/user``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from plentysync.sandbox.plenty.auth import Sessions, bearer_of
from plentysync.sandbox.plenty.context import Ctx, RouteSpec


async def _credentials(ctx: Ctx) -> dict[str, Any]:
    data = await ctx.data()
    values: dict[str, Any] = dict(ctx.query)
    if isinstance(data, dict):
        values.update(data)
    return values


async def login(ctx: Ctx) -> Any:
    values = await _credentials(ctx)
    sessions = Sessions(ctx.state, ctx.config)
    sessions.prune()
    username, password = values.get("username"), values.get("password")
    return sessions.login(str(username) if username is not None else None, str(password) if password else None)


async def refresh(ctx: Ctx) -> Any:
    values = await _credentials(ctx)
    token = values.get("refresh_token") or values.get("refreshToken")
    bearer = bearer_of(ctx.request.headers.get("authorization"))
    return Sessions(ctx.state, ctx.config).refresh(str(token) if token else None, bearer)


async def logout(ctx: Ctx) -> Any:
    Sessions(ctx.state, ctx.config).logout(ctx.bearer or "")
    return Response(status_code=200)


async def user(ctx: Ctx) -> Any:
    return {
        "id": 1,
        "user": ctx.config.username,
        "realName": "Sandbox API user",
        "lang": "de",
        "email": "api@sandbox.invalid",
        "timezone": "Europe/Berlin",
        "api": True,
        "disabled": False,
        "roleId": 1,
    }


PUBLIC_ROUTES: list[RouteSpec] = [
    ("POST", "/rest/login", login),
    ("POST", "/rest/login/refresh", refresh),
]
UNCOUNTED_ROUTES: list[RouteSpec] = [("POST", "/rest/logout", logout)]
ROUTES: list[RouteSpec] = [("GET", "/rest/user", user)]
