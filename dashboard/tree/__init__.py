"""The metric tree: typed model (model.py) and a YAML loader that reports every problem (loader.py)."""

from dashboard.tree.loader import LoadedTree, Problem, TreeError, check_tree, load_tree, parse_tree
from dashboard.tree.model import DataRef, Guardrail, MetricNode, MetricTree

__all__ = ["DataRef", "Guardrail", "LoadedTree", "MetricNode", "MetricTree", "Problem", "TreeError",
           "check_tree", "load_tree", "parse_tree"]
