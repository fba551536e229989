"""Fixtures every test may ask for by name."""

pytest_plugins = ["tests.cli_helpers"]
