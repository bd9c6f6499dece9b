"""The Magento 2 REST adapter: an async client (OAuth 1.0a, bearer or admin-token auth; store-scoped paths;
pagination that trusts ``total_count``), a searchCriteria builder and one resource API per area."""

from plentysync.magento.auth import (
    AdminCredentials,
    BearerCredentials,
    MagentoCredentials,
    OAuthCredentials,
)
from plentysync.magento.client import ALL_STORES, MAX_PAGE_SIZE, MagentoClient, MagentoClientConfig
from plentysync.magento.customers import KEEP_ADDRESSES
from plentysync.magento.search import Condition, Filter, SearchCriteria, SortOrder, list_fields

__all__ = [
    "ALL_STORES",
    "KEEP_ADDRESSES",
    "MAX_PAGE_SIZE",
    "AdminCredentials",
    "BearerCredentials",
    "Condition",
    "Filter",
    "MagentoClient",
    "MagentoClientConfig",
    "MagentoCredentials",
    "OAuthCredentials",
    "SearchCriteria",
    "SortOrder",
    "list_fields",
]
