"""The HTTP side (``plentysync serve``): webhook intake, /healthz, /metrics; the admin UI later."""
