"""What to do with a response: a declarative table from (status, body marker) to an action, in the
manner of the Airbyte CDK's error handler. Each adapter starts from :data:`DEFAULT_RULES` and adds
its own rows in front (first match wins)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    OK = "ok"
    RETRY = "retry"
    """Transient: try again after a backoff (only if the request is safe to repeat)."""
    RATE_LIMITED = "rate_limited"
    """The budget is spent: wait (Retry-After) and try again; the server did not apply the request."""
    REFRESH_AUTH = "refresh_auth"
    """The token expired or was revoked: log in again, then repeat once."""
    VALIDATION = "validation"
    """The server rejected the payload; repeating it cannot help."""
    NOT_FOUND = "not_found"
    FAIL = "fail"
    """Anything else that will not get better by itself (permissions, a broken configuration)."""


@dataclass(frozen=True)
class Rule:
    """``status`` is one code or an inclusive ``(low, high)`` range; ``marker``, if given, must occur
    in the response body text (case-insensitive)."""

    status: int | tuple[int, int]
    action: Action
    marker: str | None = None

    def matches(self, status: int, body_text: str) -> bool:
        if isinstance(self.status, tuple):
            low, high = self.status
            if not low <= status <= high:
                return False
        elif status != self.status:
            return False
        return self.marker is None or self.marker.lower() in body_text.lower()


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule((200, 299), Action.OK),
    Rule(429, Action.RATE_LIMITED),
    Rule(401, Action.REFRESH_AUTH),
    Rule(403, Action.FAIL),
    Rule(404, Action.NOT_FOUND),
    Rule(400, Action.VALIDATION),
    Rule(409, Action.VALIDATION),
    Rule(422, Action.VALIDATION),
    Rule(408, Action.RETRY),
    Rule(425, Action.RETRY),
    Rule((500, 599), Action.RETRY),
)


class StatusPolicy:
    def __init__(self, rules: Iterable[Rule] = (), *, defaults: Sequence[Rule] = DEFAULT_RULES) -> None:
        self.rules: tuple[Rule, ...] = (*rules, *defaults)

    def classify(self, status: int, body_text: str = "") -> Action:
        for rule in self.rules:
            if rule.matches(status, body_text):
                return rule.action
        return Action.FAIL
