"""The login / refresh answer, in either key spelling (current systems send both)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field

from plentysync.plenty.models.base import WireModel


class TokenResponse(WireModel):
    access_token: str | None = Field(default=None, validation_alias=AliasChoices("access_token", "accessToken"))
    refresh_token: str | None = Field(default=None, validation_alias=AliasChoices("refresh_token", "refreshToken"))
    expires_in: float | None = Field(default=None, validation_alias=AliasChoices("expires_in", "expiresIn"))
    token_type: str | None = Field(default=None, validation_alias=AliasChoices("token_type", "tokenType"))

    @classmethod
    def parse(cls, body: Any) -> TokenResponse | None:
        """The token in ``body``, or None when there is none (a non-JSON or error answer)."""
        if not isinstance(body, dict):
            return None
        token = cls.model_validate(body)
        return token if token.access_token else None
