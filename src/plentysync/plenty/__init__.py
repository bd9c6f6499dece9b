"""The PlentyONE REST adapter: an async client with single-flight login, a header-driven rate
budget, pagination, typed wire models and one resource module per API area."""

from plentysync.plenty.auth import PlentyCredentials
from plentysync.plenty.client import PlentyClient, PlentyClientConfig

__all__ = ["PlentyClient", "PlentyClientConfig", "PlentyCredentials"]
