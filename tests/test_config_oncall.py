"""The on-call keys (docs/design.md §17): ``runbook``, ``escalate`` and ``evidence_bytes`` from
[defaults] and [[monitor]], ``[probed] external_url``, what ``probed check`` says about them,
and the seed's routing. One rule per file is tests/data/invalid-*.toml's job."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from probed.config import load_config
from probed.config.oncall import EscalationStep
from probed.evidence import EVIDENCE_BYTES, EVIDENCE_BYTES_MAX
from tests.kit.clock import FakeClock
from tests.kit.configs import DUTYCALL_ENV, load_monitors, load_problems
from tests.kit.harness import Harness
from tests.kit.processes import probed
from tests.test_schema import errors as schema_errors

ROOT = Path(__file__).parent.parent
CHANNELS = (
    '[alerts.email]\nhost = "smtp.example.com"\nfrom = "probed@example.com"\n'
    'to = "oncall@example.com"\n'
    '[alerts.pager]\ntype = "webhook"\nurl = "https://hooks.example.com/page"\n'
)


def test_every_on_call_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    problems = load_problems(
        tmp_path,
        '[probed]\nexternal_url = "https://probed.example.com#top"\n'
        + CHANNELS
        + "[defaults]\nevidence_bytes = 100000\n"
        '[[monitor]]\nname = "API"\nurl = "https://api.example.com"\nrunbook = "ftp://x"\n'
        'escalate = [{ after = "1h", alert = ["pager"] }, { after = "15m", alert = ["sms"] }]\n',
    )
    assert problems == [
        f"{path}: [probed] external_url: must have no query or fragment (links are added to"
        ' it), got "https://probed.example.com#top"',
        f"{path}: [defaults] evidence_bytes: must be between 0 and 65536, got 100000",
        f'{path}: monitor "API" (#1) runbook: must be an http:// or https:// URL, got "ftp://x"',
        f'{path}: monitor "API" (#1) escalate[2].after: must be later than step 1\'s 1h (steps'
        " go in increasing order), got 15m",
        f'{path}: monitor "API" (#1) escalate[2].alert: unknown alert channel "sms": no'
        " [alerts.sms] table",
    ]


def test_a_monitor_inherits_the_defaults_and_its_own_keys_replace_them(tmp_path: Path) -> None:
    inherits, own, silent = load_monitors(
        tmp_path,
        CHANNELS + '[defaults]\nrunbook = "https://wiki.example.com/runbooks/outage"\n'
        'escalate = [{ after = "15m", alert = ["pager"] }, { after = "1h", alert = "email" }]\n'
        "evidence_bytes = 512\n"
        '[[monitor]]\nname = "A"\nurl = "https://a.example.com"\n'
        '[[monitor]]\nname = "B"\nurl = "https://b.example.com"\n'
        'runbook = "http://wiki.example.com/b"\nevidence_bytes = 65536\n'
        'escalate = [{ after = 90, alert = ["pager", "email"] }]\n'
        '[[monitor]]\nname = "C"\nurl = "https://c.example.com"\nescalate = []\n'
        "evidence_bytes = 0\n",
    )
    assert (inherits.runbook, inherits.evidence_bytes) == (
        "https://wiki.example.com/runbooks/outage",
        512,
    )
    assert inherits.escalate == (
        EscalationStep(900.0, ("pager",)),
        EscalationStep(3600.0, ("email",)),
    )
    # A monitor's list replaces the default's: its steps are not added to it.
    assert own.escalate == (EscalationStep(90.0, ("pager", "email")),)
    assert (own.runbook, own.evidence_bytes) == ("http://wiki.example.com/b", EVIDENCE_BYTES_MAX)
    assert (silent.escalate, silent.evidence_bytes) == ((), 0)
    assert silent.runbook == "https://wiki.example.com/runbooks/outage"


def test_without_the_keys_a_monitor_has_no_runbook_nor_escalation(tmp_path: Path) -> None:
    (monitor,) = load_monitors(tmp_path, '[[monitor]]\nname = "A"\nurl = "https://a.test"\n')
    assert (monitor.runbook, monitor.escalate, monitor.evidence_bytes) == (
        None,
        (),
        EVIDENCE_BYTES,
    )


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("https://probed.example.com/", "https://probed.example.com"),
        ("https://example.com/probed//", "https://example.com/probed"),
        ("http://[::1]:9925", "http://[::1]:9925"),
    ],
)
def test_external_url_loses_its_trailing_slash_and_keeps_its_path(
    tmp_path: Path, written: str, read: str
) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(f'[probed]\nexternal_url = "{written}"\n', encoding="utf-8")
    assert load_config(path, {}).settings.external_url == read


def test_the_on_call_keys_may_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(
        '[probed]\nexternal_url = "${PROBED_URL}"\n'
        '[[monitor]]\nname = "A"\nurl = "https://a.test"\nrunbook = "${WIKI}/a"\n',
        encoding="utf-8",
    )
    config = load_config(path, {"PROBED_URL": "https://p.test/", "WIKI": "https://wiki.test"})
    assert config.settings.external_url == "https://p.test"
    assert config.monitors[0].runbook == "https://wiki.test/a"


def check_output(tmp_path: Path, text: str) -> str:
    path = tmp_path / "monitors.toml"
    path.write_text(text, encoding="utf-8")
    proc = probed("check", "-c", str(path))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


NO_LINKS = "note: alerts will carry no incident or acknowledgement links"


def test_check_says_why_alerts_carry_no_links_without_external_url(tmp_path: Path) -> None:
    out = check_output(
        tmp_path, CHANNELS + '[[monitor]]\nname = "A"\nurl = "https://a.test"\nalert = ["email"]\n'
    )
    (note,) = [line for line in out.splitlines() if line.startswith(NO_LINKS)]
    assert "set [probed] external_url" in note


def test_check_names_the_link_base_and_the_escalation_steps(tmp_path: Path) -> None:
    out = check_output(
        tmp_path,
        '[probed]\nexternal_url = "https://probed.example.com/"\n'
        + CHANNELS
        + '[[monitor]]\nname = "A"\nurl = "https://a.test"\nalert = ["email"]\n'
        'escalate = [{ after = "15m", alert = ["pager"] }, { after = "1h", alert = ["email"] }]\n',
    )
    assert NO_LINKS not in out
    assert "incident and acknowledgement links on https://probed.example.com\n" in out
    assert "email +15m:pager +1h:email" in out


def test_check_has_no_note_when_nothing_alerts(tmp_path: Path) -> None:
    out = check_output(tmp_path, '[[monitor]]\nname = "A"\nurl = "https://a.test"\n')
    assert NO_LINKS not in out and "links on" not in out


def test_the_seed_routes_email_to_all_sms_to_critical_and_pagerduty_later() -> None:
    config = load_config(ROOT / "examples" / "dutycall.toml", DUTYCALL_ENV)
    assert config.settings.external_url is not None
    assert config.settings.external_url.startswith("https://")
    kinds = {name: type(channel).__name__ for name, channel in config.alerts}
    assert kinds == {
        "email": "EmailChannel",
        "sms": "AppriseChannel",
        "pagerduty": "AppriseChannel",
    }
    sms, pagerduty = dict(config.alerts)["sms"], dict(config.alerts)["pagerduty"]
    assert [url.partition("://")[0] for url in getattr(sms, "urls", ())] == ["twilio"]
    assert [url.partition("://")[0] for url in getattr(pagerduty, "urls", ())] == ["pagerduty"]
    page = (EscalationStep(900.0, ("pagerduty",)),)
    for monitor in config.monitors:
        critical = monitor.severity == "critical"
        assert monitor.alert == (("email", "sms") if critical else ("email",)), monitor.name
        assert monitor.escalate == (page if critical else ()), monitor.name
        assert monitor.runbook is not None and monitor.runbook.startswith("https://")
    assert len({m.runbook for m in config.monitors}) == len(config.monitors)
    assert sum(m.severity == "critical" for m in config.monitors) == 3


def test_check_validates_the_seed_offline_and_shows_its_routes() -> None:
    proc = probed("check", "-c", "examples/dutycall.toml", env={**os.environ, **DUTYCALL_ENV})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("email,sms +15m:pagerduty") == 3
    assert NO_LINKS not in proc.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[monitor]]\nname = "a"\nurl = "https://a.test/"\nrunbook = "ftp://x"\n', "ftp://x"),
        ("[defaults]\nevidence_bytes = 70000\n", "70000 is greater than the maximum"),
        ('[defaults]\nescalate = [{ after = "15m" }]\n', "'alert' is a required property"),
        (
            '[defaults]\nescalate = [{ after = "15m", alert = ["a"], when = 1 }]\n',
            "'when' was unexpected",
        ),
        ('[probed]\nexternal_url = "probed.example.com"\n', "probed.example.com"),
    ],
)
def test_the_schema_underlines_wrong_on_call_keys(text: str, message: str) -> None:
    assert any(message in problem for problem in schema_errors(text)), schema_errors(text)


async def test_a_reload_carries_the_new_on_call_settings(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    monitor = '[[monitor]]\nname = "API"\nurl = "https://api.test"\n'
    settings = f'[probed]\nstate_dir = "{tmp_path}"\n'
    path.write_text(settings + CHANNELS + monitor, encoding="utf-8")
    h = Harness(load_config(path, {}), FakeClock())
    try:
        path.write_text(
            settings
            + 'external_url = "https://probed.example.com"\n'
            + CHANNELS
            + monitor
            + 'runbook = "https://wiki.test/api"\nevidence_bytes = 1024\n'
            'escalate = [{ after = "15m", alert = ["pager"] }]\n',
            encoding="utf-8",
        )
        changes = h.parts.apply(load_config(path, {}))
        assert changes.restarted == []  # the same check: its state is kept
        reloaded = h.tracked("API").monitor
        assert (reloaded.runbook, reloaded.evidence_bytes) == ("https://wiki.test/api", 1024)
        assert reloaded.escalate == (EscalationStep(900.0, ("pager",)),)
        assert h.parts.config.settings.external_url == "https://probed.example.com"
    finally:
        await h.close()
