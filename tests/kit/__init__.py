"""The one test kit: the fake clock, the harness, the monitor builder, the subprocess helpers,
the real loopback servers and the system-tool gate, registered for every test by
tests/conftest.py."""
