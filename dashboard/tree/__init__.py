"""The metric tree: typed model (model.py) and a YAML loader that reports every problem (loader.py)."""

from dashboard.tree.loader import LoadedTree, Problem, TreeError, check_tree, load_tree, parse_tree
from dashboard.tree.model import Composite, DataRef, Guardrail, MetricNode, MetricTree

__all__ = ["Composite", "DataRef", "Guardrail", "LoadedTree", "MetricNode", "MetricTree", "Problem", "TreeError",
           "check_tree", "load_tree", "parse_tree"]
