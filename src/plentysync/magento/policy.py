"""How Magento's answers map onto the shared status policy, and readable error messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plentysync.http import Action, Rule, StatusPolicy
from plentysync.http.client import default_error_message
from plentysync.magento.auth import AdminCredentials, MagentoCredentials, unauthorized_hint

NO_ROUTE_MARKER = "Request does not match any route"


def magento_policy(credentials: MagentoCredentials) -> StatusPolicy:
    """A 404 for an unknown route is a broken setup (wrong base URL, missing module), not a missing record.
    A 401 only improves with a new login in the admin-token mode."""
    rules = [Rule(404, Action.FAIL, marker=NO_ROUTE_MARKER)]
    if not isinstance(credentials, AdminCredentials):
        rules.append(Rule(401, Action.FAIL))
    return StatusPolicy(rules)


def magento_error_message(credentials: MagentoCredentials) -> Callable[[Any, int], str]:
    """``message`` with its ``%placeholders`` rendered from ``parameters``, plus a hint for the statuses whose
    cause is a setup problem."""

    def render(body: Any, status: int) -> str:
        message = default_error_message(body, status)
        if isinstance(body, Mapping) and isinstance(body.get("parameters"), Mapping):
            problem = body["parameters"].get("oauth_problem")
            if problem:
                message = f"{message} [oauth_problem={problem}]"
        if status == 401:
            return f"{message} (likely cause: {unauthorized_hint(credentials)})"
        if status == 404 and NO_ROUTE_MARKER.lower() in message.lower():
            return f"{message} (wrong base URL, or the Magento module serving this route is missing or disabled)"
        return message

    return render
