"""Typed model of a metric tree: business outcomes at the top, model metrics at the bottom.

A node says where its numbers come from (`DataRef`), which way is good (`direction`) and,
optionally, how far it may move the wrong way in an experiment (`Guardrail`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["higher", "lower"]
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
DEFAULT_LEVELS: tuple[str, ...] = ("business", "engagement", "task", "model")
# data source kind -> the table its metric names live in
DATA_KINDS: dict[str, str] = {
    "online": "experiment_results",
    "daily": "daily_metrics",
    "offline": "offline_results",
}


@dataclass(frozen=True)
class DataRef:
    """Metric names of this node in each table; None where the node has no such data."""

    online: str | None = None  # experiment_results.metric
    daily: str | None = None  # daily_metrics.metric
    offline: str | None = None  # offline_results.metric (ndcg@10, recall@precision>=0.95...)

    def items(self) -> list[tuple[str, str]]:
        return [(k, v) for k in DATA_KINDS if (v := getattr(self, k)) is not None]


@dataclass(frozen=True)
class Guardrail:
    """Largest allowed change in the node's *worse* direction.

    Example: latency_ms (lower is better) with max_relative_change 0.10 may rise by at most 10%;
    retention (higher is better) with max_absolute_change 0.005 may fall by at most 0.5 points.
    When both are given, both must hold.
    """

    max_relative_change: float | None = None
    max_absolute_change: float | None = None

    def describe(self, direction: str) -> str:
        worse = "rise" if direction == "lower" else "fall"
        parts = []
        if self.max_relative_change is not None:
            parts.append(f"{self.max_relative_change * 100:g}%")
        if self.max_absolute_change is not None:
            parts.append(f"{self.max_absolute_change:g} (absolute)")
        return f"may {worse} by at most " + " and ".join(parts)


@dataclass(frozen=True)
class Composite:
    """A node whose lift is a weighted sum of other nodes' relative lifts, predicting `target`'s.

    weights: (node id, coefficient on that node's relative lift) as declared in the tree file;
    empty: learned from the experiment history (dashboard.services.proxy).
    """

    target: str
    weights: tuple[tuple[str, float], ...] = ()

    @property
    def learned(self) -> bool:
        return not self.weights


@dataclass(frozen=True)
class MetricNode:
    id: str
    name: str
    level: str
    direction: Direction
    data: DataRef
    parents: tuple[str, ...] = ()
    unit: str = ""
    owner: str = ""
    description: str = ""
    guardrail: Guardrail | None = None
    primary: bool = False  # the launch decision's primary metric
    line: int | None = None  # 1-based line in the YAML file
    composite: Composite | None = None  # a learned or declared combination of other nodes

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better."""
        return 1 if self.direction == "higher" else -1


@dataclass(frozen=True)
class MetricTree:
    nodes: tuple[MetricNode, ...]
    levels: tuple[str, ...] = DEFAULT_LEVELS
    source: str = "<string>"
    _by_id: dict[str, MetricNode] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({n.id: n for n in self.nodes})

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._by_id

    def node(self, node_id: str) -> MetricNode:
        return self._by_id[node_id]

    @property
    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def children(self, node_id: str) -> list[MetricNode]:
        return [n for n in self.nodes if node_id in n.parents]

    def roots(self) -> list[MetricNode]:
        return [n for n in self.nodes if not n.parents]

    def level_rank(self, level: str) -> int:
        return self.levels.index(level)

    def by_data(self, kind: str, metric: str) -> MetricNode | None:
        """The node fed by `metric` in table kind ('online', 'daily', 'offline')."""
        return next((n for n in self.nodes if getattr(n.data, kind) == metric), None)

    def descendants(self, node_id: str) -> list[MetricNode]:
        seen: list[str] = []
        stack = [node_id]
        while stack:
            for child in self.children(stack.pop()):
                if child.id not in seen:
                    seen.append(child.id)
                    stack.append(child.id)
        return [self.node(i) for i in seen]

    def primary(self) -> MetricNode | None:
        return next((n for n in self.nodes if n.primary), None)
