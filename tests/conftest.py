"""Registers the test kit (tests/kit/fixtures.py) for every test."""

pytest_plugins = ["tests.kit.fixtures"]
