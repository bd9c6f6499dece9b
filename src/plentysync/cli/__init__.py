"""The ``plentysync`` command line: one module per command group."""
