"""Property: any monitors.toml document loads into a Config or a list of problems, never an
exception (hypothesis generates the documents, biased towards probed's own keys)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probed.config import ConfigError, config_from_data, parse_config
from probed.config.channels.email import KEYS as EMAIL_KEYS
from probed.config.maintenance import WINDOW_KEYS
from probed.config.settings_table import SETTINGS_KEYS
from probed.config.tables import (
    DEFAULTS_KEYS,
    MONITOR_KEYS,
)

PATH = Path("/nonexistent/monitors.toml")
ENV = {"HOME": "/nonexistent", "TOKEN": "t0ken-from-env"}

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "30s",
            "5m",
            "1h30m",
            "0",
            "2xx",
            "200-399",
            "GET",
            "keyword",
            "ssl",
            "https://a.test/",
            "http://[::1]:9/",
            "${TOKEN}",
            "${MISSING}",
            "mon",
            "Europe/Berlin",
            "12:30",
            "*",
            "starttls",
            "none",
            "127.0.0.1:9925",
        ]
    ),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dates(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def table(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, object]]:
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=10), values, max_size=8)


documents = st.fixed_dictionaries(
    {},
    optional={
        "probed": table(SETTINGS_KEYS),
        "defaults": table(DEFAULTS_KEYS),
        "alerts": st.dictionaries(
            st.sampled_from(["email", "x"]), table(EMAIL_KEYS) | values, max_size=2
        ),
        "monitor": st.lists(table(MONITOR_KEYS), max_size=4) | values,
        "maintenance": st.lists(table(WINDOW_KEYS), max_size=2) | values,
        "unknown": values,
    },
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_gives_a_config_or_problems_never_an_exception(data):
    try:
        config_from_data(data, PATH, ENV)
    except ConfigError as exc:
        assert exc.problems and all(p.startswith(str(PATH)) for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_config_or_problems_never_an_exception(text):
    try:
        parse_config(text, PATH, ENV)
    except ConfigError as exc:
        assert exc.problems
