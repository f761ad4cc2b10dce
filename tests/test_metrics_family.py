"""The per-monitor metrics are plain ``Family`` dicts rendered by probed itself: what they export
must be exactly what prometheus_client's Gauge and Counter exported for the same life."""

from __future__ import annotations

import threading
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from probed.metric_family import Family
from probed.metrics import Metrics
from probed.model import Status
from tests.kit.metrics_scenario import play, stable_text

GOLDEN = Path(__file__).parent / "data" / "metrics_scenario.txt"


def without_process(text: bytes) -> list[str]:
    """The process and gc collectors' values (CPU, memory, collections) move between two
    renders; their names and help do not."""
    return [
        line
        for line in text.decode().splitlines()
        if line.startswith("#") or not line.startswith(("process_", "python_gc_"))
    ]


def test_the_scenario_exports_what_prometheus_client_exported() -> None:
    # The file was written by probed.metrics at 72503d8, whose per-monitor metrics were
    # prometheus_client's own Gauge and Counter children.
    metrics = Metrics()
    play(metrics)
    assert stable_text(metrics) == GOLDEN.read_text()


def test_render_is_generate_latest_of_the_registry() -> None:
    metrics = Metrics()
    play(metrics)
    rendered = without_process(metrics.render())
    assert rendered == without_process(generate_latest(metrics.registry))
    assert any(line.startswith('probe_success{monitor="m9"} 1.0') for line in rendered)
    assert "\npython_gc_objects_collected_total{" in metrics.render().decode()


def test_the_registry_reads_family_samples() -> None:
    metrics = Metrics()
    metrics.add_monitor("a", Status.UP, None, "http", url="http://127.0.0.1/")
    sample = metrics.registry.get_sample_value
    assert sample("probed_monitor_status", {"monitor": "a"}) == 2
    assert sample("probed_checks_total", {"monitor": "a", "result": "failure"}) == 0
    assert sample("probe_success", {"monitor": "a"}) is None  # no result yet
    metrics.remove_monitor("a")
    assert sample("probed_monitor_status", {"monitor": "a"}) is None


def test_values_are_written_as_generate_latest_writes_them() -> None:
    values = [0.0, -0.0, 1.0, -1.5, 1e-05, 1764565200.25, 1234567.0, float("inf"), float("nan")]
    registry = CollectorRegistry()
    gauge = Gauge("g", "help with \\ and\nnewline", ["b", "a"], registry=registry)
    family = Family("g", "help with \\ and\nnewline", ["b", "a"])
    for i, value in enumerate(values):
        gauge.labels(f'v"{i}', "x\\y").set(value)
        family.set((f'v"{i}', "x\\y"), value)
    floats: dict[float, str] = {}
    # Twice: the second time from the caches of lines and formatted values.
    for _ in range(2):
        assert family.exposition(floats) == generate_latest(registry).decode()


def test_render_while_monitors_come_and_go() -> None:
    metrics = Metrics()
    for i in range(2000):
        metrics.add_monitor(f"m{i}", Status.UP, None, "http", url="http://127.0.0.1/")
    errors: list[BaseException] = []
    stop = threading.Event()

    def scrape() -> None:
        try:
            while not stop.is_set():
                metrics.render()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=scrape)
    thread.start()
    try:
        for round_ in range(20):
            for i in range(0, 2000, 2):
                metrics.remove_monitor(f"m{i}")
                metrics.add_monitor(f"m{i}", Status(1 + round_ % 2), None, "keyword")
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert b'probed_monitor_status{monitor="m0"} 2.0' in metrics.render()
