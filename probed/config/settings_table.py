"""[probed]: the daemon's own settings (docs/design.md §2.1), read through a Section so every
problem is reported with the others."""

from __future__ import annotations

from collections.abc import Mapping

from probed.config.model import Settings, default_state_dir
from probed.config.oncall import read_external_url
from probed.config.reader import Section, listen_problem, pick
from probed.config.sentry import read_sentry_dsn
from probed.config.shard import read_shard
from probed.config.vantage import read_location

SETTINGS_KEYS: tuple[str, ...] = ("listen", "state_dir", "api_token", "api_token_file")
SETTINGS_KEYS += ("status_page_title", "max_concurrent_checks", "shutdown_grace")
SETTINGS_KEYS += ("alert_max_age", "storm_threshold", "storm_window", "connectivity_check")
SETTINGS_KEYS += ("raw_retention", "history_retention", "status_page_show_urls", "public_listen")
SETTINGS_KEYS += ("location", "shard", "external_url", "rdap_bootstrap")
SETTINGS_KEYS += ("sentry_dsn",)


def read_settings(sec: Section, env: Mapping[str, str]) -> Settings:
    """[probed] as Settings; ``env`` supplies PROBED_LISTEN, PROBED_LOCATION and the default
    state directory."""
    sec.reject_unknown(SETTINGS_KEYS)
    base = Settings()
    listen = sec.string("listen")
    if listen is not None and (problem := listen_problem(listen)):
        sec.problem("listen", problem)
    # Containers publish the port on 0.0.0.0 while the shipped config says 127.0.0.1: the
    # environment wins so the same monitors.toml works in both.
    if env_listen := env.get("PROBED_LISTEN"):
        if problem := listen_problem(env_listen):
            sec.problem("listen", f"PROBED_LISTEN={env_listen!r}: {problem}")
        listen = env_listen
    state_dir = sec.string("state_dir", nonempty=True)
    public_listen = sec.string("public_listen")
    if public_listen is not None and (problem := listen_problem(public_listen)):
        sec.problem("public_listen", problem)
        public_listen = None
    elif public_listen is not None and listen is not None and public_listen == listen:
        sec.problem("public_listen", f"must differ from listen ({listen})")
        public_listen = None
    return Settings(
        listen=pick(listen, base.listen),
        state_dir=sec.reader.base_dir / state_dir if state_dir else default_state_dir(env),
        api_token=sec.secret("api_token"),
        status_page_title=pick(sec.string("status_page_title"), base.status_page_title),
        status_page_show_urls=pick(
            sec.boolean("status_page_show_urls"), base.status_page_show_urls
        ),
        public_listen=public_listen,
        max_concurrent_checks=pick(
            sec.integer("max_concurrent_checks", 1), base.max_concurrent_checks
        ),
        shutdown_grace=pick(sec.duration("shutdown_grace"), base.shutdown_grace),
        alert_max_age=pick(sec.duration("alert_max_age", positive=True), base.alert_max_age),
        storm_threshold=pick(sec.integer("storm_threshold", 1), base.storm_threshold),
        storm_window=pick(sec.duration("storm_window", positive=True), base.storm_window),
        connectivity_check=_addresses(sec, "connectivity_check"),
        # An hour at least: an hour's raw results are rolled up only once it has ended.
        raw_retention=pick(sec.duration("raw_retention", minimum=3600), base.raw_retention),
        history_retention=pick(
            sec.duration("history_retention", minimum=86400), base.history_retention
        ),
        location=read_location(sec, env),
        shard=read_shard(sec),
        external_url=read_external_url(sec),
        sentry_dsn=read_sentry_dsn(sec, env),
        rdap_bootstrap=_rdap_bootstrap(sec),
    )


def _rdap_bootstrap(sec: Section) -> str | None:
    """A URL as written; a file relative to the config's directory, which must exist."""
    where = sec.string("rdap_bootstrap", nonempty=True)
    if where is None or where.startswith(("http://", "https://")):
        return where
    if "://" in where:
        sec.problem("rdap_bootstrap", f'must be an http(s) URL or a file, got "{where}"')
        return None
    path = sec.reader.base_dir / where
    if not path.is_file():
        sec.problem("rdap_bootstrap", f"no such file: {path}")
        return None
    return str(path)


def _addresses(sec: Section, key: str) -> tuple[str, ...]:
    """A list of ``host:port`` strings, each checked like ``listen``."""
    addresses = sec.strings(key) or ()
    for address in addresses:
        if problem := listen_problem(address):
            sec.problem(key, problem)
    return addresses
