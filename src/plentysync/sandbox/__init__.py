"""Simulated systems for tests, benchmarks and the demo. Production code paths never import this."""
