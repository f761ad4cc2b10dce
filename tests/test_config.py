"""monitors.toml loading: every invalid-*.toml in tests/data fails with its `# expect:` line."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from probed.config import (
    BasicAuth,
    Config,
    HttpCheck,
    KeywordCheck,
    SslCheck,
    StatusRange,
    default_state_dir,
    load_config,
    parse_config,
    parse_duration,
)
from probed.errors import ConfigError
from probed.units import format_duration
from tests.kit.configs import DUTYCALL_ENV

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
INVALID = sorted(DATA.glob("invalid-*.toml"))
SITE = '[[monitor]]\nname = "Site"\nurl = "https://example.com"\n'


def expected_problems(path: Path) -> list[str]:
    """The file's leading ``# expect: <message>`` lines, each prefixed with the file's path."""
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]
    assert expected, f"{path.name} must start with '# expect: <message>'"
    return [f"{path}: " + message.replace("{data}", str(DATA)) for message in expected]


def problems_of(path: Path | str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return caught.value.problems


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "monitors.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env or {})


def test_there_is_an_invalid_example_for_every_rule() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem.removeprefix("invalid-"))
def test_an_invalid_file_reports_exactly_its_expected_problems(path: Path) -> None:
    assert problems_of(path) == expected_problems(path)


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(
        "[probed]\nlisten = 9925\n\n"
        '[[monitor]]\nname = "A"\nurl = "https://example.com"\ninterval = "soon"\n\n'
        '[[monitor]]\nname = "B"\nurl = "https://example.org"\ntimeout = "${SLOW}"\n',
        encoding="utf-8",
    )
    assert problems_of(path) == [
        f"{path}: [probed] listen: expected a string, got an integer",
        f'{path}: monitor "A" (#1) interval: invalid duration "soon": expected e.g. "30s", '
        '"5m", "1h30m", "2d", "500ms" or integer seconds',
        f'{path}: monitor "B" (#2) timeout: environment variable SLOW is not set',
    ]


def test_a_missing_file_is_one_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert problems_of(path) == [f"{path}: cannot read: No such file or directory"]


def test_a_directory_or_a_binary_file_cannot_be_read(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: cannot read: Is a directory"]
    binary = tmp_path / "monitors.toml"
    binary.write_bytes(b"\xff\xfe[probed]")
    assert problems_of(binary) == [f"{binary}: cannot read: not UTF-8 text (invalid start byte)"]


def test_a_minimal_monitor_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, SITE)
    site = config.monitors[0]
    check = site.check
    assert isinstance(check, HttpCheck)
    assert (site.name, site.url, site.type, check.method) == (
        "Site",
        "https://example.com",
        "http",
        "GET",
    )
    assert (site.interval, site.timeout, site.retry_interval, site.remind_every) == (
        300.0,
        30.0,
        30.0,
        0.0,
    )
    assert (site.down_after, site.up_after, site.verify_tls) == (3, 1, True)
    assert check.expect_status == (StatusRange(200, 299, "2xx"),)
    assert (check.follow_redirects, check.max_redirects) == (True, 10)
    assert check.max_body == 10 * 1024 * 1024
    assert (site.paused, site.public, site.id) == (False, True, None)
    assert (site.alert, check.headers, check.basic_auth, site.ca_file) == ((), (), None, None)
    assert config.settings.listen == "127.0.0.1:9925"
    assert (config.settings.max_concurrent_checks, config.settings.shutdown_grace) == (512, 10.0)
    assert config.email is None


def test_no_monitors_is_a_valid_config(tmp_path: Path) -> None:
    assert load_text(tmp_path, "").monitors == ()


def test_defaults_apply_unless_a_monitor_sets_its_own(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        '[defaults]\ninterval = "1m"\ntimeout = "10s"\ndown_after = 2\nup_after = 2\n'
        'retry_interval = "15s"\nssl_expiry_days = 14\nremind_every = "1h"\n'
        "follow_redirects = false\nmax_redirects = 3\nverify_tls = false\nmax_body = 4096\n"
        'expect_status = ["2xx", "3xx"]\n\n'
        + SITE
        + '\n[[monitor]]\nname = "Own"\nurl = "https://example.org"\ninterval = "2m"\n'
        'timeout = "1m"\ndown_after = 5\nexpect_status = [204]\n'
        '\n[[monitor]]\nname = "Cert"\nurl = "https://example.net"\ntype = "ssl"\n',
    )
    site, own, cert = config.monitors
    assert (site.interval, site.timeout, site.retry_interval) == (60.0, 10.0, 15.0)
    assert (site.down_after, site.up_after, site.remind_every, site.verify_tls) == (
        2,
        2,
        3600.0,
        False,
    )
    assert site.check == HttpCheck(
        follow_redirects=False,
        max_redirects=3,
        max_body=4096,
        expect_status=(StatusRange(200, 299, "2xx"), StatusRange(300, 399, "3xx")),
    )
    assert (own.interval, own.timeout, own.down_after, own.up_after) == (120.0, 60.0, 5, 2)
    assert isinstance(own.check, HttpCheck)
    assert own.check.expected_status_text() == "204"
    # Each kind takes the defaults of its own keys and no others.
    assert (cert.check, cert.down_after, cert.verify_tls) == (
        SslCheck(ssl_expiry_days=14),
        2,
        False,
    )


def test_a_short_interval_shrinks_the_default_timeout_and_retry_interval(tmp_path: Path) -> None:
    config = load_text(tmp_path, SITE + 'interval = "5s"\n')
    assert (config.monitors[0].timeout, config.monitors[0].retry_interval) == (5.0, 5.0)


def test_a_timeout_equal_to_the_interval_is_fine(tmp_path: Path) -> None:
    config = load_text(tmp_path, SITE + 'interval = "1s"\ntimeout = "1s"\n')
    assert config.monitors[0].timeout == config.monitors[0].interval == 1.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("1d2h3m4s", 93784.0),
        (" 10s ", 10.0),
        ("0", 0.0),
        (0, 0.0),
        (45, 45.0),
    ],
)
def test_durations_are_unit_strings_or_integer_seconds(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", 'invalid duration "": expected e.g.'),
        ("5", 'invalid duration "5": missing unit (e.g. "5s" or "5m")'),
        ("5 m", 'invalid duration "5 m"'),
        ("-5s", 'invalid duration "-5s"'),
        ("1w", 'invalid duration "1w"'),
        (-1, "duration must not be negative, got -1"),
        (True, "got a boolean"),
        (1.5, "got a float"),
        (None, "got None"),
    ],
)
def test_bad_durations_raise_a_clear_value_error(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


@pytest.mark.parametrize("seconds", [0.0, 0.5, 1.0, 59.0, 90.0, 3600.0, 5400.5, 93784.0])
def test_formatted_durations_parse_back(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_int_seconds_work_in_the_file(tmp_path: Path) -> None:
    config = load_text(tmp_path, SITE + "interval = 90\ntimeout = 3\n")
    assert (config.monitors[0].interval, config.monitors[0].timeout) == (90.0, 3.0)


def test_environment_variables_are_substituted_in_any_string(tmp_path: Path) -> None:
    env = {"HOST": "example.com", "TOKEN": "s3cret", "EMPTY": ""}
    config = load_text(
        tmp_path,
        '[[monitor]]\nname = "Site on ${HOST}"\nurl = "https://${HOST}/health${EMPTY}"\n'
        'headers = { Authorization = "Bearer ${TOKEN}" }\nbody = "$${NOT_A_VAR} costs $5"\n'
        'expect_status = ["${EMPTY}2xx"]\n',
        env,
    )
    site = config.monitors[0]
    assert (site.name, site.url) == ("Site on example.com", "https://example.com/health")
    assert site.check == HttpCheck(
        headers=(("Authorization", "Bearer s3cret"),), body="${NOT_A_VAR} costs $5"
    )


def test_load_config_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBED_TEST_HOST", "example.net")
    path = tmp_path / "monitors.toml"
    path.write_text('[[monitor]]\nname = "S"\nurl = "https://${PROBED_TEST_HOST}"\n')
    assert load_config(path).monitors[0].url == "https://example.net"


def test_secrets_can_come_from_files_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t0ken\n", encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "smtp").write_text("smtp-pw\r\n", encoding="utf-8")
    (tmp_path / "site").write_text("site-pw", encoding="utf-8")
    config = load_text(
        tmp_path,
        '[probed]\napi_token_file = "token"\n\n'
        '[alerts.email]\nhost = "smtp.example.com"\nusername = "probed"\n'
        f'password_file = "{tmp_path}/secrets/smtp"\nfrom = "p@example.com"\n'
        'to = "oncall@example.com"\n\n'
        + SITE
        + 'basic_auth = { username = "me", password_file = "site" }\n',
    )
    assert config.settings.api_token == "t0ken"
    assert config.email is not None and config.email.password == "smtp-pw"
    assert config.monitors[0].check == HttpCheck(basic_auth=BasicAuth("me", "site-pw"))


def test_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        '[probed]\napi_token = "t0ken"\n\n'
        + SITE
        + 'basic_auth = { username = "u", password = "pw1" }\n',
    )
    assert "t0ken" not in repr(config) and "pw1" not in repr(config)


def test_state_dir_defaults_from_the_environment(tmp_path: Path) -> None:
    systemd = {"STATE_DIRECTORY": "/var/lib/probed:/var/lib/other", "XDG_STATE_HOME": "/x"}
    assert default_state_dir(systemd) == Path("/var/lib/probed")
    assert default_state_dir({"XDG_STATE_HOME": "/home/u/.state"}) == Path("/home/u/.state/probed")
    assert default_state_dir({"XDG_STATE_HOME": "rel", "HOME": "/home/u"}) == Path(
        "/home/u/.local/state/probed"
    )
    assert default_state_dir({"HOME": "/home/u"}) == Path("/home/u/.local/state/probed")
    config = load_text(tmp_path, "", {"STATE_DIRECTORY": "/var/lib/probed"})
    assert config.settings.state_dir == Path("/var/lib/probed")


def test_a_relative_state_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[probed]\nstate_dir = "state"\n')
    assert config.settings.state_dir == tmp_path / "state"


@pytest.mark.parametrize(
    ("expect", "inside", "outside"),
    [
        ([200], [200], [201, 204, 500]),
        (["2xx"], [200, 204, 299], [199, 300, 404]),
        (["200-399"], [200, 301, 399], [199, 400]),
        (["204", "3XX"], [204, 302], [200, 404]),
        (["4xx", 503], [404, 503], [500, 200]),
    ],
)
def test_expect_status_accepts_codes_classes_and_ranges(
    tmp_path: Path, expect: list[object], inside: list[int], outside: list[int]
) -> None:
    items = ", ".join(f'"{e}"' if isinstance(e, str) else str(e) for e in expect)
    check = load_text(tmp_path, SITE + f"expect_status = [{items}]\n").monitors[0].check
    assert isinstance(check, HttpCheck)
    statuses = check.expect_status
    assert all(any(code in r for r in statuses) for code in inside)
    assert not any(any(code in r for r in statuses) for code in outside)


def test_a_status_range_contains_only_integers() -> None:
    assert "200" not in StatusRange(200, 299, "2xx")
    assert 200 in StatusRange(200, 299, "2xx")


def test_methods_are_case_insensitive_and_keyword_checks_get(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        SITE
        + 'method = "post"\nbody = "{}"\n\n'
        + '[[monitor]]\nname = "K"\nurl = "https://example.org"\ntype = "keyword"\n'
        + 'keyword = "ok"\nmethod = "get"\nkeyword_absent = true\n',
    )
    site, keyword = config.monitors
    assert site.check == HttpCheck(method="POST", body="{}")
    assert keyword.check == KeywordCheck(method="GET", keyword="ok", keyword_absent=True)


def test_alerts_default_to_every_configured_channel(tmp_path: Path) -> None:
    email = '[alerts.email]\nhost = "smtp"\nfrom = "p@example.com"\nto = "o@example.com"\n\n'
    quiet = '\n[[monitor]]\nname = "Quiet"\nurl = "https://example.org"\nalert = []\n'
    config = load_text(tmp_path, email + SITE + quiet)
    assert config.channels == ("email",)
    assert [m.alert for m in config.monitors] == [("email",), ()]


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("none", 25)])
def test_the_smtp_port_follows_the_security_mode(tmp_path: Path, security: str, port: int) -> None:
    config = load_text(
        tmp_path,
        f'[alerts.email]\nhost = "smtp"\nsecurity = "{security}"\nfrom = "p@example.com"\n'
        'to = ["a@example.com", "Team <b@example.com>"]\n',
    )
    assert config.email is not None
    assert (config.email.port, config.email.security) == (port, security)
    assert config.email.to == ("a@example.com", "Team <b@example.com>")
    assert (config.email.sender, config.email.timeout) == ("p@example.com", 30.0)


def test_headers_from_defaults_merge_case_insensitively(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        '[defaults]\nheaders = { "User-Agent" = "probed", "Authorization" = "a" }\n\n'
        + SITE
        + 'headers = { "authorization" = "b", "X-Extra" = "c" }\n',
    )
    check = config.monitors[0].check
    assert isinstance(check, HttpCheck)
    assert check.headers == (("User-Agent", "probed"), ("authorization", "b"), ("X-Extra", "c"))


def test_a_ca_file_must_be_a_pem_bundle(tmp_path: Path) -> None:
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate", encoding="utf-8")
    config = load_text(tmp_path, SITE + 'ca_file = "ca.pem"\n')
    assert config.monitors[0].ca_file == str(tmp_path / "ca.pem")
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, SITE + 'ca_file = "junk.pem"\n')
    [problem] = caught.value.problems
    assert f'ca_file: "{tmp_path / "junk.pem"}" is not a PEM certificate bundle' in problem


def test_parse_config_names_the_given_path_in_problems() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("[probed]\nlisten = true\n", Path("etc/probed.toml"), {})
    assert caught.value.problems == [
        "etc/probed.toml: [probed] listen: expected a string, got a boolean"
    ]
    assert str(caught.value) == caught.value.problems[0]


def test_the_dutycall_example_loads_without_network() -> None:
    config = load_config(ROOT / "examples" / "dutycall.toml", DUTYCALL_ENV)
    assert config.settings.api_token == "token-123"
    assert config.settings.status_page_title == "DutyCall status"
    assert config.email is not None
    assert (config.email.host, config.email.port, config.email.security) == (
        "smtp.example.com",
        587,
        "starttls",
    )
    assert config.email.password == "smtp-pw"
    frontend, backend, database, certificate = config.monitors
    api = "https://dutycall-production.up.railway.app/api/check-users"
    assert (frontend.name, frontend.check, frontend.url) == (
        "DutyCall Frontend (Production)",
        HttpCheck(method="HEAD"),
        "https://dutycall.vercel.app",
    )
    assert (backend.name, backend.check, backend.url) == (
        "DutyCall Backend API",
        HttpCheck(method="HEAD"),
        api,
    )
    assert (database.name, database.check, database.url) == (
        "DutyCall Database Health",
        KeywordCheck(keyword="success"),
        api,
    )
    assert (certificate.name, certificate.check) == (
        "DutyCall SSL Certificate",
        SslCheck(ssl_expiry_days=30),
    )
    assert {m.interval for m in config.monitors} == {300.0}
    # The routing (email, SMS, PagerDuty) is tests/test_config_oncall.py's.
    assert {m.alert for m in config.monitors} == {("email",), ("email", "sms")}


def test_the_dutycall_example_names_its_missing_secrets() -> None:
    path = ROOT / "examples" / "dutycall.toml"
    assert problems_of(path) == [
        f"{path}: [probed] api_token: environment variable PROBED_API_TOKEN is not set",
        f"{path}: [alerts.email] password: environment variable SMTP_PASSWORD is not set",
        f"{path}: [alerts.sms] urls: environment variable TWILIO_ACCOUNT_SID is not set",
        f"{path}: [alerts.sms] urls: environment variable TWILIO_AUTH_TOKEN is not set",
        f"{path}: [alerts.pagerduty] urls: environment variable PAGERDUTY_INTEGRATION_KEY is not"
        " set",
        f"{path}: [alerts.pagerduty] urls: environment variable PAGERDUTY_API_KEY is not set",
    ]


def test_the_starter_monitors_toml_loads_with_an_empty_environment() -> None:
    config = load_config(ROOT / "monitors.toml", {})
    assert config.settings.listen == "127.0.0.1:9925"
    assert config.email is None
    healthz, metrics = config.monitors
    assert (healthz.name, healthz.check, healthz.url, healthz.interval) == (
        "probed self (healthz)",
        HttpCheck(method="HEAD"),
        "http://127.0.0.1:9925/healthz",
        60.0,
    )
    assert (metrics.check, metrics.url, metrics.interval) == (
        KeywordCheck(keyword="probed_monitor_status"),
        "http://127.0.0.1:9925/metrics",
        60.0,
    )


def test_probed_listen_in_the_environment_overrides_the_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[probed]\nlisten = "127.0.0.1:9925"\n')
    assert load_config(path, {"PROBED_LISTEN": "0.0.0.0:9925"}).settings.listen == "0.0.0.0:9925"
    with pytest.raises(ConfigError, match="PROBED_LISTEN='nope'"):
        load_config(path, {"PROBED_LISTEN": "nope"})


def test_ssl_expiry_days_on_an_http_monitor_still_loads_as_it_did_in_0_1(tmp_path):
    path = tmp_path / "monitors.toml"
    path.write_text(
        '[[monitor]]\nname = "Site"\nurl = "https://example.com"\nssl_expiry_days = 14\n'
        '[[monitor]]\nname = "Words"\nurl = "https://example.com"\ntype = "keyword"\n'
        'keyword = "ok"\nssl_expiry_days = 14\n'
    )
    config = load_config(path, {"HOME": str(tmp_path)})
    assert [m.type for m in config.monitors] == ["http", "keyword"]


def test_status_page_keys_are_read(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        '[probed]\nstatus_page_show_urls = true\npublic_listen = "[::1]:8080"\n\n'
        '[[monitor]]\nname = "api"\nurl = "https://example.org/"\ngroup = "Backend"\n'
        'slo = "99.9%"\nslow_threshold = "500ms"\npublic = false\n',
    )
    settings, (api,) = config.settings, config.monitors
    assert (settings.status_page_show_urls, settings.public_listen) == (True, "[::1]:8080")
    assert (api.group, api.slo, api.slow_threshold, api.public) == ("Backend", 0.999, 0.5, False)
