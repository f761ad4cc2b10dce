"""The Prometheus kit, the Alertmanager pair and the Grafana dashboard in contrib/ use only the
metric names of docs/design.md §7, and Prometheus's and Alertmanager's own tools accept them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kit.tools import tool

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"
DASHBOARD = CONTRIB / "grafana" / "probed-dashboard.json"
RULES = CONTRIB / "prometheus" / "probed.rules.yml"
RULE_TESTS = CONTRIB / "prometheus" / "probed.rules.test.yml"
PROMETHEUS_CONFIGS = ("prometheus.yml", "probed-locations.yml")
HA_PAIR = CONTRIB / "alertmanager" / "ha-pair.yml"

METRICS = {
    "probe_success",
    "probe_duration_seconds",
    "probe_http_status_code",
    "probe_ssl_earliest_cert_expiry",
    "probed_monitor_status",
    "probed_checks_total",
    "probed_uptime_ratio",
    "probed_alerts_total",
    "probed_alert_queue_length",
    "probed_alert_oldest_pending_seconds",
    "probed_schedule_lag_seconds",
    "probed_config_last_reload_successful",
    "probed_config_last_reload_success_timestamp_seconds",
    "probe_http_duration_seconds",
    "probed_schedule_lag_seconds_bucket",
    "probed_build_info",
    "probed_monitor_degraded",
    "probed_slo_error_budget_remaining_ratio",
    "up",
}

_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
_KEYWORDS |= {"by", "without", "on", "ignoring", "group_left", "group_right"}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions or keywords."""
    expr = _STRINGS.sub('""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range and subquery selectors
    expr = _GROUPING.sub("", expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)  # Grafana variables such as $__rate_interval
    names = set()
    for match in _IDENTIFIER.finditer(expr):
        name, call = match.groups()
        if call is None and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def test_metric_names_parser_ignores_functions_labels_and_keywords() -> None:
    expr = (
        'sum by (monitor, result) (rate(probed_checks_total{monitor=~"$monitor"}[5m])) '
        "and on (monitor) probe_success == bool 1 or vector(0) * 1e3"
    )
    assert metric_names(expr) == {"probed_checks_total", "probe_success"}


def dashboard_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from dashboard_panels(panel.get("panels", []))  # panels inside collapsed rows


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [
        target["expr"]
        for panel in dashboard_panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            label_values = re.fullmatch(r"label_values\((\w+)(?:\{[^}]*\})?,\s*\w+\)", text)
            exprs.append(label_values.group(1) if label_values else text)
    return exprs


def all_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def rules() -> list[dict[str, Any]]:
    """The alerting rules."""
    return [rule for rule in all_rules() if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    return [rule for rule in all_rules() if "record" in rule]


RECORDED = {rule["record"] for rule in recording_rules()}


@pytest.mark.parametrize("expr", dashboard_exprs())
def test_dashboard_queries_use_only_design_metrics(expr: str) -> None:
    names = metric_names(expr)
    assert names, f"no metric in {expr!r}"
    assert names <= METRICS, f"unknown metrics {names - METRICS} in {expr!r}"


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: str(rule.get("alert")))
def test_alert_rules_use_only_design_metrics(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names, f"no metric in {rule['expr']!r}"
    assert names <= METRICS | RECORDED, f"unknown metrics {names - METRICS} in {rule['alert']}"


@pytest.mark.parametrize("rule", recording_rules(), ids=lambda rule: str(rule.get("record")))
def test_recording_rules_use_only_design_metrics_and_are_unit_tested(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names and names <= METRICS, f"unknown metrics {names - METRICS} in {rule['record']}"
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    tested = {case["expr"] for test in tests for case in test.get("promql_expr_test", [])}
    assert rule["record"] in tested


def run_tool(*args: str) -> None:
    done = subprocess.run(
        args, cwd=CONTRIB / "prometheus", capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("config", PROMETHEUS_CONFIGS)
def test_promtool_accepts_the_example_configs_and_the_rules_they_load(config: str) -> None:
    run_tool(tool("promtool"), "check", "config", config)


def test_the_rules_pass_their_promtool_unit_tests() -> None:
    run_tool(tool("promtool"), "test", "rules", RULE_TESTS.name)


def test_amtool_accepts_the_alertmanager_pair_config() -> None:
    run_tool(tool("amtool"), "check-config", str(HA_PAIR))


def test_the_locations_config_labels_every_target_with_a_location() -> None:
    config = yaml.safe_load((CONTRIB / "prometheus" / "probed-locations.yml").read_text())
    groups = [group for job in config["scrape_configs"] for group in job["static_configs"]]
    locations = [group["labels"]["location"] for group in groups]
    assert len(set(locations)) >= 2  # a quorum of 2 needs 2 locations at least


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: str(rule.get("alert")))
def test_alert_rules_have_severity_summary_and_description(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert set(rule["annotations"]) == {"summary", "description"}


def test_every_alert_rule_is_unit_tested() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in rules()}


def test_dashboard_panels_have_unique_ids_and_use_the_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = list(dashboard_panels(dashboard["panels"]))
    assert len({panel["id"] for panel in panels}) == len(panels)
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables >= {"datasource", "instance", "monitor"}
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_every_monitor_query_of_the_dashboard_is_scoped_to_the_chosen_instance() -> None:
    for expr in dashboard_exprs():
        if "$monitor" in expr or "[" in expr:
            selectors = re.findall(r"\w+\{([^}]*)\}", expr)
            assert selectors and all('instance=~"$instance"' in s for s in selectors), expr


def test_the_response_time_panel_counts_good_checks_only() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panel = next(p for p in dashboard_panels(dashboard["panels"]) if p["id"] == 5)
    expr = panel["targets"][0]["expr"]
    assert re.search(r"and on \(instance, monitor\) \(probe_success\{[^}]*\} == 1\)", expr)


SUBJECTS = CONTRIB / "alertmanager" / "probed-subjects.tmpl"


@pytest.mark.parametrize(
    ("status", "annotations", "expected"),
    [
        ("firing", {"incident": "INC-2026-014"}, "[probed] DOWN: api (INC-2026-014)"),
        ("resolved", {"incident": "INC-2026-014"}, "[probed] UP: api (INC-2026-014, down 12m 30s)"),
        # An alert of probed.rules.yml has no incident: the subject is as before issue 22.
        ("firing", {}, "[probed] DOWN: api"),
        ("resolved", {}, "[probed] UP: api (down 12m 30s)"),
    ],
)
def test_the_subject_template_names_the_incident_when_the_alert_has_one(
    tmp_path: Path, status: str, annotations: dict[str, str], expected: str
) -> None:
    alert = {
        "status": status,
        "labels": {"alertname": "ProbedMonitorDown", "monitor": "api"},
        "annotations": {"summary": "DOWN: api", **annotations},
        "startsAt": "2026-03-01T12:00:00Z",
        "endsAt": "2026-03-01T12:12:30Z",
    }
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"receiver": "mail", "status": status, "alerts": [alert]}))
    done = subprocess.run(
        [
            tool("amtool"),
            "template",
            "render",
            f"--template.glob={SUBJECTS}",
            '--template.text={{ template "probed.subject" . }}',
            f"--template.data={data}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
