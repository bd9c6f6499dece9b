"""A faithful in-memory fake of the PlentyONE REST API (see ``plentyone-api-notes.md``)."""

from plentysync.sandbox.plenty.app import create_plenty_app
from plentysync.sandbox.plenty.config import PlentySandboxConfig
from plentysync.sandbox.plenty.state import PlentyState, StockLevel

__all__ = ["PlentySandboxConfig", "PlentyState", "StockLevel", "create_plenty_app"]
