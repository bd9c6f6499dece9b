"""The simulated Magento 2.4.8 admin REST API (Starlette, in-memory state); see ``create_magento_app``."""

from plentysync.sandbox.magento.app import create_magento_app
from plentysync.sandbox.magento.config import MagentoSandboxConfig
from plentysync.sandbox.magento.state import MagentoState

__all__ = ["MagentoSandboxConfig", "MagentoState", "create_magento_app"]
