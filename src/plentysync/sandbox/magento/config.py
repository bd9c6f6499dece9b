"""Settings of the simulated Magento: credentials and the switches for behaviour that differs between
real installations (2FA, integration tokens as bearer, page clamping, web API input limits)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class MagentoSandboxConfig:
    consumer_key: str = "sandbox-consumer-key"
    consumer_secret: str = "sandbox-consumer-secret"  # noqa: S105
    access_token: str = "sandbox-access-token"  # noqa: S105
    access_token_secret: str = "sandbox-access-token-secret"  # noqa: S105
    integration_as_bearer: bool = False
    """``oauth/consumer/enable_integration_as_bearer``: the integration access token works as a bearer token."""
    admin_username: str = "sandbox-admin"
    admin_password: str = "sandbox-password123"  # noqa: S105
    two_factor_auth: bool = True
    """The admin token endpoint refuses (401 + ``active_providers``) while 2FA is on."""
    admin_token_lifetime_seconds: int = 4 * 3600
    clamp_pages: bool = True
    """``currentPage`` past the end repeats the last page; ``False`` returns an empty page."""
    input_limits: bool = False
    """``webapi/validation/input_limit_enabled``: pageSize > 300 and arrays > 20 give 400; default pageSize 20."""
    maximum_page_size: int = 300
    default_page_size: int = 20
    complex_array_limit: int = 20
    comment_changes_status: bool = True
    """``POST /V1/orders/{id}/comments`` with ``statusHistory.status`` changes the order status (pre-2.4.7)."""
    state_file: Path | None = None
    """Load the state from here at start if the file exists; save it (atomically) after every write request."""
    base_url: str = "http://magento.sandbox/"
    """Shown in ``storeConfigs``; requests may come in on any host."""
