"""The metrics' names: every one /metrics exports is in `NAMES`, and the Grafana dashboard in docs/
asks only for those."""

import json
import re

from bot import metrics
from tests.conftest import ROOT

DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"


def test_every_name_kept_is_exported_and_every_export_is_kept() -> None:
    text = metrics.exposition().decode()
    exported = set(re.findall(r"^# TYPE (smsbot_\w+) (\w+)$", text, re.M))
    named = {  # a counter's samples end in _total; _created (when each began) is not ours to chart
        f"{name.removesuffix('_total')}_total" if kind == "counter" else name
        for name, kind in exported
        if not name.endswith("_created")
    }
    assert named == metrics.NAMES


def test_the_grafana_dashboard_asks_only_for_metrics_smsbot_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    asked = {re.sub(r"_(bucket|sum|count)$", "", m) for q in queries for m in re.findall(r"smsbot_\w+", q)}
    assert asked == metrics.NAMES  # each a metric smsbot exports, and every one of them shown
