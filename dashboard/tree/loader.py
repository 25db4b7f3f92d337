"""Load a metric tree from YAML and report every problem at once, each with its line and node.

Like dbt-semantic-interfaces' validations: parsing never stops at the first mistake. Errors make
`load_tree` raise `TreeError` listing all of them; warnings (a child drawn above its parent's
level) come back with the tree. `check_tree` never raises, for pages that show problems inline.

File format (see data/metric_tree.yaml and docs/metric_tree.md):

    levels: [business, engagement, task, model]     # optional, top to bottom
    nodes:
      - id: latency_ms                               # unique, no spaces
        name: Search latency (p50)                   # optional display name, default the id
        level: task                                  # one of `levels`
        direction: lower                             # higher | lower: which way is better
        unit: ms                                     # optional, shown next to values
        owner: search-infra                          # optional
        data: {online: latency_ms, daily: latency_ms}   # at least one of online/daily/offline
        parents: [task_success]                      # ids of the nodes it drives
        guardrail: {max_relative_change: 0.10}       # optional: may worsen by at most 10%
        primary: false                               # at most one node: the launch metric

A composite node takes `composite:` instead of `data:` (docs/alignment.md, learned composite proxy):

      - id: retention_proxy
        level: engagement
        direction: higher
        composite: {target: retention_7d}            # weights learned from past experiments
        # composite: {target: retention_7d, weights: {task_success: 0.6, session_length: 0.3}}
        #   declared: coefficients on each node's relative lift (nodes with online data)
        parents: [retention_7d]
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

import yaml
from yaml.constructor import SafeConstructor

from dashboard.tree.model import (
    DATA_KINDS,
    DEFAULT_LEVELS,
    DIRECTIONS,
    DataRef,
    Composite,
    Guardrail,
    MetricNode,
    MetricTree,
)

# libyaml's C parser when available (~20x faster than pure Python; marks carry the same lines)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TOP_KEYS = ("version", "levels", "nodes")
NODE_KEYS = ("id", "name", "level", "direction", "unit", "owner", "description", "data",
             "parents", "guardrail", "primary", "composite")
GUARDRAIL_KEYS = ("max_relative_change", "max_absolute_change")
COMPOSITE_KEYS = ("target", "weights")


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None  # 1-based
    node: str | None = None
    severity: Literal["error", "warning"] = "error"
    source: str = "<string>"
    data: bool = False  # a metric with no rows (the file itself may be fine)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        who = f" node '{self.node}':" if self.node else ""
        return f"{where}:{who} {self.message}"


class TreeError(ValueError):
    """The tree file has errors; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the metric tree:\n{lines}")


@dataclass
class LoadedTree:
    tree: MetricTree | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


# `available`: data kind ('online', 'daily', 'offline') -> metric names that have rows.
Available = Mapping[str, Iterable[str]]


def load_tree(path: str | Path, available: Available | None = None) -> LoadedTree:
    """Parse and validate; raise TreeError with every error found (warnings come back)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TreeError([Problem(f"cannot read the file: {exc.strerror or exc}", source=str(path))]) from exc
    result = check_tree(text, source=str(path), available=available)
    if result.errors:
        raise TreeError(result.errors)
    return result


def parse_tree(text: str, source: str = "<string>", available: Available | None = None) -> LoadedTree:
    result = check_tree(text, source=source, available=available)
    if result.errors:
        raise TreeError(result.errors)
    return result


def check_tree(text: str, source: str = "<string>", available: Available | None = None,
               data_blocks: bool = True) -> LoadedTree:
    """Every problem in the file; the tree only when there is no error (data_blocks=False: missing
    data is reported as an error but the tree is still built, its nodes drawn as 'no data')."""
    return _Checker(source).run(text, available, data_blocks)


@dataclass
class _Raw:
    """What could be read of one node, with the line of each field for precise messages."""

    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    ok: bool = True

    @property
    def id(self) -> str | None:
        value = self.fields.get("id")
        return value if isinstance(value, str) else None


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self._construct = SafeConstructor()

    def add(self, message: str, line: int | None, node: str | None = None, severity: str = "error") -> None:
        self.problems.append(Problem(message, line, node, severity, self.source))  # type: ignore[arg-type]

    def run(self, text: str, available: Available | None, data_blocks: bool = True) -> LoadedTree:
        try:
            root = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.add(f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                     mark.line + 1 if mark else None)
            return LoadedTree(None, self.problems)
        if not isinstance(root, yaml.MappingNode):
            self.add("the file must be a mapping with a `nodes:` list", _line(root))
            return LoadedTree(None, self.problems)
        top = self._mapping(root, TOP_KEYS, None)
        levels = self._levels(top.get("levels"))
        nodes_node = top.get("nodes")
        if not isinstance(nodes_node, yaml.SequenceNode) or not nodes_node.value:
            self.add("`nodes:` must be a non-empty list of nodes", _line(nodes_node) or 1)
            return LoadedTree(None, self.problems)
        raws = [self._node(item, levels) for item in nodes_node.value]
        self._cross_checks(raws, levels)
        if available is not None:
            self._data_checks(raws, available)
        self.problems.sort(key=lambda p: p.line or 0)  # stable: file order, then check order
        if any(p.severity == "error" and (data_blocks or not p.data) for p in self.problems):
            return LoadedTree(None, self.problems)
        tree = MetricTree(tuple(_build(r) for r in raws), levels, self.source)
        return LoadedTree(tree, self.problems)

    # ------------------------------------------------------------------ pieces

    def _mapping(self, node: yaml.MappingNode, allowed: tuple[str, ...], owner: str | None,
                 what: str = "field") -> dict[str, yaml.Node]:
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key not in allowed:
                hint = _suggest(str(key), allowed)
                self.add(f"unknown {what} '{key}'{hint}; allowed: {', '.join(allowed)}", line, owner)
            elif key in out:
                self.add(f"'{key}' is given twice (first on line {_line(out[key])})", line, owner)
            else:
                out[key] = value_node
        return out

    def _value(self, node: yaml.Node) -> Any:
        return self._construct.construct_object(node, deep=True)

    def _levels(self, node: yaml.Node | None) -> tuple[str, ...]:
        if node is None:
            return DEFAULT_LEVELS
        value = self._value(node)
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, str) and v.strip() for v in value)):
            self.add("`levels:` must be a non-empty list of names, top (business) first", _line(node))
            return DEFAULT_LEVELS
        if len(set(value)) != len(value):
            self.add("`levels:` lists a level twice", _line(node))
        return tuple(value)

    def _node(self, item: yaml.Node, levels: tuple[str, ...]) -> _Raw:
        raw = _Raw(_line(item) or 0)
        if not isinstance(item, yaml.MappingNode):
            self.add("each node must be a mapping (id:, level:, direction:, data:...)", raw.line)
            raw.ok = False
            return raw
        # the id first, so every later message can name the node
        id_node = next((v for k, v in item.value if getattr(k, "value", None) == "id"), None)
        node_id = self._value(id_node) if id_node is not None else None
        label = node_id if isinstance(node_id, str) else None
        fields = self._mapping(item, NODE_KEYS, label)
        for key, value_node in fields.items():
            raw.lines[key] = _line(value_node) or raw.line
            raw.fields[key] = self._value(value_node)
        self._check_fields(raw, label, levels, fields)
        return raw

    def _check_fields(self, raw: _Raw, label: str | None, levels: tuple[str, ...],
                      nodes: dict[str, yaml.Node]) -> None:
        f, at = raw.fields, raw.lines

        def bad(key: str, message: str) -> None:
            self.add(message, at.get(key, raw.line), label)
            raw.ok = False

        if "id" not in f:
            bad("id", "node has no `id:`")
        elif not isinstance(f["id"], str) or not f["id"].strip() or any(c.isspace() for c in f["id"]):
            bad("id", f"id must be a non-empty name without spaces, got {f['id']!r}")
        for key in ("name", "unit", "owner", "description"):
            if key in f and not isinstance(f[key], str):
                bad(key, f"`{key}:` must be text, got {f[key]!r}")
        if "level" not in f:
            bad("level", f"no `level:`; use one of: {', '.join(levels)}")
        elif f["level"] not in levels:
            bad("level", f"unknown level {f['level']!r}{_suggest(str(f['level']), levels)}; "
                         f"levels are: {', '.join(levels)}")
        if "direction" not in f:
            bad("direction", "no `direction:`; say which way is better: higher or lower")
        elif f["direction"] not in DIRECTIONS:
            bad("direction", f"bad direction {f['direction']!r}: use 'higher' (higher is better) "
                             "or 'lower' (lower is better)")
        if "composite" in nodes:
            self._check_composite(raw, label, nodes["composite"], bad)
            if "data" in nodes:
                bad("data", "a composite node takes its numbers from the nodes it combines: remove `data:` "
                            "(or `composite:`)")
            raw.fields["data"] = {}
        else:
            self._check_data(raw, label, nodes.get("data"), bad)
        parents = f.get("parents", [])
        if isinstance(parents, str):
            parents = [parents]
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            bad("parents", f"`parents:` must be a list of node ids, got {f.get('parents')!r}")
            parents = []
        f["parents"] = parents
        if "guardrail" in f:
            self._check_guardrail(raw, label, nodes["guardrail"], bad)
        if "primary" in f and not isinstance(f["primary"], bool):
            bad("primary", f"`primary:` must be true or false, got {f['primary']!r}")

    def _check_data(self, raw: _Raw, label, node: yaml.Node | None, bad) -> None:
        if node is None:
            bad("data", "metric with no data: add `data:` with at least one of "
                        "online (experiment metric), daily (daily series), offline (model metric)")
            return
        if not isinstance(node, yaml.MappingNode):
            bad("data", "`data:` must be a mapping like {online: retention_7d, daily: retention_7d}")
            return
        before = len(self.problems)
        sub = self._mapping(node, tuple(DATA_KINDS), label, what="data source")
        if len(self.problems) > before:
            raw.ok = False
        refs = {}
        for kind, value_node in sub.items():
            value = self._value(value_node)
            if not isinstance(value, str) or not value.strip():
                bad("data", f"data source `{kind}:` must name a metric, got {value!r}")
            else:
                refs[kind] = value
        if not sub:
            bad("data", "metric with no data: `data:` names no online, daily or offline metric")
        raw.fields["data"] = refs

    def _check_composite(self, raw: _Raw, label, node: yaml.Node, bad) -> None:
        """Shape only; that target and weights name nodes with online data is a cross-check."""
        if not isinstance(node, yaml.MappingNode):
            bad("composite", "`composite:` must be a mapping like {target: retention_7d} or "
                             "{target: retention_7d, weights: {task_success: 0.6, session_length: 0.3}}")
            raw.fields["composite"] = None
            return
        before = len(self.problems)
        sub = self._mapping(node, COMPOSITE_KEYS, label, what="composite field")
        if len(self.problems) > before:
            raw.ok = False
        target = self._value(sub["target"]) if "target" in sub else None
        if not isinstance(target, str) or not target.strip():
            bad("composite", f"composite needs `target:`, the id of the node it predicts, got {target!r}")
        weights: dict[str, float] = {}
        if "weights" in sub:
            w_node = sub["weights"]
            w_line = _line(w_node)
            if not isinstance(w_node, yaml.MappingNode) or not w_node.value:
                self.add("composite `weights:` must be a non-empty mapping of node id to number, "
                         "like {task_success: 0.6, session_length: 0.3}", w_line, label)
                raw.ok = False
            else:
                for k_node, v_node in w_node.value:
                    key, value = self._value(k_node), _number(self._value(v_node))
                    line = _line(k_node)
                    if not isinstance(key, str):
                        self.add(f"composite weight key must be a node id, got {key!r}", line, label)
                        raw.ok = False
                    elif key in weights:
                        self.add(f"composite weight for '{key}' is given twice", line, label)
                        raw.ok = False
                    elif value is None:
                        self.add(f"composite weight for '{key}' must be a finite number, got "
                                 f"{self._value(v_node)!r}", line, label)
                        raw.ok = False
                    else:
                        weights[key] = value
                if weights and not any(weights.values()):
                    self.add("composite weights are all 0: the composite would never move", w_line, label)
                    raw.ok = False
        raw.fields["composite"] = {"target": target, "weights": weights,
                                   "line": _line(node) or raw.line}

    def _composite_checks(self, raws: list[_Raw], first: dict[str, "_Raw"]) -> None:
        """Target and weighted nodes exist, have online data, and are not composites themselves."""
        for r in raws:
            comp = r.fields.get("composite")
            if not comp:
                continue
            line = comp["line"]
            for role, ref in [("target", comp["target"])] + [("weight", k) for k in comp["weights"]]:
                if not isinstance(ref, str):
                    continue
                if ref == r.id:
                    self.add(f"composite {role} '{ref}' is the composite node itself", line, r.id)
                elif ref not in first:
                    self.add(f"composite {role} '{ref}' is not a node{_suggest(ref, list(first))}", line, r.id)
                elif first[ref].fields.get("composite"):
                    self.add(f"composite {role} '{ref}' is itself a composite", line, r.id)
                elif not (first[ref].fields.get("data") or {}).get("online"):
                    self.add(f"composite {role} '{ref}' has no online (experiment) metric in `data:`: "
                             "a composite combines experiment lifts", line, r.id)
            if comp["target"] in comp["weights"]:
                self.add(f"composite weights include the target '{comp['target']}': it cannot predict "
                         "itself", line, r.id)

    def _check_guardrail(self, raw: _Raw, label, node: yaml.Node, bad) -> None:
        if not isinstance(node, yaml.MappingNode):
            bad("guardrail", "`guardrail:` must be a mapping like {max_relative_change: 0.10}")
            return
        sub = self._mapping(node, GUARDRAIL_KEYS, label, what="guardrail bound")
        bounds = {}
        for key, value_node in sub.items():
            value = _number(self._value(value_node))
            if value is None or value < 0:
                bad("guardrail", f"guardrail `{key}:` must be a number >= 0 (the largest allowed "
                                 f"change in the worse direction), got {self._value(value_node)!r}")
            else:
                bounds[key] = value
        if not sub:
            bad("guardrail", "guardrail needs max_relative_change and/or max_absolute_change")
        raw.fields["guardrail"] = bounds

    def _cross_checks(self, raws: list[_Raw], levels: tuple[str, ...]) -> None:
        first: dict[str, _Raw] = {}
        for r in raws:
            if r.id is None:
                continue
            if r.id in first:
                self.add(f"duplicate id: '{r.id}' is already defined on line {first[r.id].line}",
                         r.lines.get("id", r.line), r.id)
            else:
                first[r.id] = r
        for r in raws:
            for parent in r.fields.get("parents", []):
                line = r.lines.get("parents", r.line)
                if parent == r.id:
                    self.add(f"cycle: '{r.id}' is its own parent", line, r.id)
                elif parent not in first:
                    self.add(f"unknown parent '{parent}'{_suggest(parent, list(first))}", line, r.id)
                elif _ranked(first[parent], levels) > _ranked(r, levels) >= 0:
                    self.add(f"level '{r.fields['level']}' is above its parent '{parent}' "
                             f"(level '{first[parent].fields['level']}'); it will be drawn below it",
                             line, r.id, "warning")
        self._composite_checks(raws, first)
        primaries = [r for r in raws if r.fields.get("primary") is True]
        for r in primaries[1:]:
            self.add(f"more than one primary metric (also '{primaries[0].id}' on line "
                     f"{primaries[0].line}); mark only one", r.lines.get("primary", r.line), r.id)
        for cycle in _cycles({i: [p for p in r.fields.get("parents", []) if p in first and p != i]
                              for i, r in first.items()}):
            self.add("cycle: " + " -> ".join(cycle + [cycle[0]]), first[cycle[0]].line, cycle[0])

    def _data_checks(self, raws: list[_Raw], available: Available) -> None:
        have = {kind: set(available.get(kind, ())) for kind in DATA_KINDS}
        for r in raws:
            for kind, metric in (r.fields.get("data") or {}).items():
                if metric not in have[kind]:
                    hint = _suggest(metric, sorted(have[kind]))
                    self.problems.append(Problem(
                        f"metric with no data: {kind} metric '{metric}' has no rows in "
                        f"{DATA_KINDS[kind]}{hint}", r.lines.get("data", r.line), r.id, "error",
                        self.source, data=True))


def _build(r: _Raw) -> MetricNode:
    f = r.fields
    g = f.get("guardrail")
    return MetricNode(
        id=f["id"], name=f.get("name") or f["id"], level=f["level"], direction=f["direction"],
        data=DataRef(**f["data"]), parents=tuple(f.get("parents", ())), unit=f.get("unit", ""),
        owner=f.get("owner", ""), description=f.get("description", ""),
        guardrail=Guardrail(**g) if g else None, primary=bool(f.get("primary", False)), line=r.line,
        composite=(Composite(f["composite"]["target"], tuple(f["composite"]["weights"].items()))
                   if f.get("composite") else None),
    )


def _ranked(r: _Raw, levels: tuple[str, ...]) -> int:
    level = r.fields.get("level")
    return levels.index(level) if level in levels else -1


def _cycles(parents: dict[str, list[str]]) -> list[list[str]]:
    """Each elementary cycle found by depth-first search, once, rotated to start at its min id."""
    found: dict[tuple[str, ...], list[str]] = {}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for p in parents.get(n, []):
            if state.get(p) == 1:
                cycle = stack[stack.index(p):]
                k = cycle.index(min(cycle))
                cycle = cycle[k:] + cycle[:k]
                found.setdefault(tuple(cycle), cycle)
            elif p not in state:
                visit(p)
        stack.pop()
        state[n] = 2

    for n in parents:
        if n not in state:
            visit(n)
    return list(found.values())


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:  # YAML 1.1 reads 1e-1 as text
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""
