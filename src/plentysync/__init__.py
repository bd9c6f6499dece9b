"""plentysync: keeps a Magento 2 shop and a PlentyONE ERP in sync."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plentysync")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
