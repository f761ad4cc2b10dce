"""A metric family kept as a plain dict of label values → value, for the per-monitor metrics.

prometheus_client makes a child object per series (a lock, a value object, labels validated on
every ``labels()``), and renders each series by way of a ``Sample`` tuple: at 10,000 monitors
that is 80,000 children made at start-up and seconds of CPU per ``/metrics``. A ``Family`` is
the same family as prometheus_client's Gauge or Counter would export — same name, help, type,
labels, values, and series in the order they were first set, which is the order
prometheus_client keeps — with a series costing one dict entry, and each series' text up to
its value made once.

``collect()`` serves the registry (``get_sample_value``, other exporters); ``exposition()`` is
the text ``generate_latest`` would give for the family, made directly. Both may run in another
thread than the one setting values: they read a copy of the dict, which CPython makes
atomically for these keys (tuples of str).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]
_go_float: Callable[[float], str] = floatToGoString


def escape_label_value(value: str) -> str:
    """As the Prometheus text format (and prometheus_client) escapes a label value."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class Family:
    """One gauge or counter family; series are keyed by their label values, in the order of
    ``labelnames``."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        kind: Literal["gauge", "counter"] = "gauge",
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.kind = kind
        self.sample_name = name + "_total" if kind == "counter" else name
        self.values: dict[Labels, float] = {}
        """The series: a dict keeps the order in which each was first set."""
        self._prefixes: dict[Labels, str] = {}
        """Each series' line up to its value, made at its first exposition."""
        # Label pairs are written sorted by name, as generate_latest writes them.
        self._order = sorted(range(len(self.labelnames)), key=lambda i: self.labelnames[i])
        doc = documentation.replace("\\", r"\\").replace("\n", r"\n")
        self._head = f"# HELP {self.sample_name} {doc}\n# TYPE {self.sample_name} {kind}\n"

    def set(self, labels: Labels, value: float) -> None:
        self.values[labels] = float(value)

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def ensure(self, labels: Labels) -> None:
        """The series exists (at 0 if new), as prometheus_client's ``labels()`` makes it."""
        self.values.setdefault(labels, 0.0)

    def discard(self, labels: Labels) -> None:
        """Drop a series, if it exists."""
        if self.values.pop(labels, None) is not None:
            self._prefixes.pop(labels, None)

    def clear(self) -> None:
        self.values.clear()
        self._prefixes.clear()

    def describe(self) -> list[Metric]:
        return [Metric(self.name, self.documentation, self.kind)]

    def collect(self) -> Iterable[Metric]:
        metric = Metric(self.name, self.documentation, self.kind)
        for labels, value in self.values.copy().items():
            metric.add_sample(
                self.sample_name, dict(zip(self.labelnames, labels, strict=True)), value
            )
        return [metric]

    def exposition(self, floats: dict[float, str]) -> str:
        """The family in the text format, as ``generate_latest`` writes it; ``floats`` caches
        formatted values across families (most are 0, 1 or a status)."""
        lines = [self._head]
        prefixes = self._prefixes
        for labels, value in self.values.copy().items():
            prefix = prefixes.get(labels)
            if prefix is None:
                prefix = prefixes[labels] = self._prefix(labels)
            if value == 0.0:
                # -0.0 is a key equal to 0.0, but written "-0.0".
                text = "0.0" if math.copysign(1.0, value) > 0 else "-0.0"
            elif (text := floats.get(value)) is None:  # type: ignore[assignment]
                text = _go_float(value)
                if value == value:  # NaN is never found again: not worth keeping
                    floats[value] = text
            lines.append(prefix + text + "\n")
        return "".join(lines)

    def _prefix(self, labels: Labels) -> str:
        pairs = ",".join(
            f'{self.labelnames[i]}="{escape_label_value(labels[i])}"' for i in self._order
        )
        return f"{self.sample_name}{{{pairs}}} "
