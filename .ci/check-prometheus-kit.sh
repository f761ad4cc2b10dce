#!/usr/bin/env bash
# Checks contrib/prometheus with Debian's promtool (package `prometheus`):
# the example configs (which load the rules), the rules, their unit tests, and that the Grafana
# dashboard's queries parse; and contrib/alertmanager with amtool (`prometheus-alertmanager`).
set -euo pipefail
cd "$(dirname "$0")/../contrib/prometheus"

promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null || {
    echo "check-prometheus-kit: promtool not found (apt-get install prometheus)" >&2
    exit 1
}
echo "check-prometheus-kit: $("$promtool" --version 2>&1 | head -n 1)"
"$promtool" check config prometheus.yml
"$promtool" check config probed-locations.yml
"$promtool" check rules probed.rules.yml
"$promtool" test rules probed.rules.test.yml

# The Grafana dashboard's queries must parse as PromQL: wrap each (Grafana's interval variables
# → 5m, the others such as $monitor and $instance → .*) in a recording rule (JSON is YAML) and
# let promtool check them.
dashboard_rules=$(mktemp --suffix=.yml)
trap 'rm -f "$dashboard_rules"' EXIT
python3 - ../grafana/probed-dashboard.json >"$dashboard_rules" <<'PY'
import json, re, sys
panels = json.load(open(sys.argv[1]))["panels"]
def plain(expr):
    expr = re.sub(r"\$\{?__\w*interval\}?", "5m", expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)
exprs = [plain(t["expr"]) for p in panels for t in p.get("targets", [])]
rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
json.dump({"groups": [{"name": "grafana-dashboard", "rules": rules}]}, sys.stdout)
PY
"$promtool" check rules "$dashboard_rules"
amtool=${AMTOOL:-amtool}
command -v "$amtool" >/dev/null || {
    echo "check-prometheus-kit: amtool not found (apt-get install prometheus-alertmanager)" >&2
    exit 1
}
"$amtool" check-config ../alertmanager/ha-pair.yml
echo "check-prometheus-kit: configs, rules, rule tests, dashboard queries and Alertmanager pass"
