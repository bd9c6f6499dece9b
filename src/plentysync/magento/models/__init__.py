"""Typed wire models of the Magento REST API: parsers (responses) and request models, one module per area."""
