"""The data contract: what each ingestable kind of file holds, and the tables it lands in.

Every column name that ever reaches SQL comes from here or from `segment_columns` (which only
admits names matching `IDENTIFIER`), so SQL never interpolates user text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Column types the validator understands.
#   string  - any non-empty text
#   float   - finite real number
#   label   - 0 or 1 (empty allowed when nullable)
#   count   - integer >= 0
#   int     - integer
#   position - integer >= 1 (a rank as served, 1 = top)
#   date    - YYYY-MM-DD
#   timestamp - ISO date-time (a date alone is midnight)
ColumnType = Literal["string", "float", "label", "count", "int", "position", "date", "timestamp"]

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "float": "DOUBLE",
    "label": "TINYINT",
    "count": "BIGINT",
    "int": "BIGINT",
    "position": "BIGINT",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True
    nullable: bool = False
    doc: str = ""
    unless: str = ""  # a required column may be left out when this column is present
    needs: str = ""  # this column is accepted only together with that one


@dataclass(frozen=True)
class Kind:
    """One ingestable kind of file and the table it appends to."""

    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # rows must be unique on key + segment columns
    segments: bool = False  # extra string columns are segment columns
    doc: str = ""
    example: str = ""
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PREDICTIONS = Kind(
    name="predictions",
    table="predictions",
    columns=(
        Column("model", "string", doc="model name or version"),
        Column("score", "float", doc="model score; higher means more likely positive"),
        Column("label", "label", nullable=True, doc="1 positive, 0 negative, empty if unlabeled"),
        Column("ts", "timestamp", required=False, nullable=True, doc="when the prediction was made"),
        Column("weight", "float", required=False, nullable=True, doc="row weight (default 1)"),
        Column("value", "float", required=False, nullable=True, doc="money at stake in the row"),
        Column("id", "string", required=False, nullable=True, doc="entity id, for joins across models"),
    ),
    key=(),
    segments=True,
    doc="One scored example per row; extra string columns are segments (country, device...).",
    example="predictions.csv",
)

RUN = Kind(
    name="run",
    table="rankings",
    columns=(
        Column("model", "string"),
        Column("query_id", "string"),
        Column("item_id", "string"),
        Column("score", "float", unless="position", doc="higher ranks first (optional with position)"),
        Column("position", "position", required=False,
               doc="rank the item was served at (1 = top); when given, the list is ordered by it"),
        Column("relevance", "int", required=False, needs="position",
               doc="judgement logged with the row (0 = not relevant); when given, qrels are not used "
                   "for this model"),
    ),
    key=("model", "query_id", "item_id"),
    doc="A ranking run: one retrieved item per row. TREC run files load too. A logged ranking "
        "carries position and relevance in every row and needs no qrels.",
    example="run.csv",
)

QRELS = Kind(
    name="qrels",
    table="qrels",
    columns=(
        Column("query_id", "string"),
        Column("item_id", "string"),
        Column("relevance", "int", doc="graded judgement, 0 = not relevant"),
    ),
    key=("query_id", "item_id"),
    doc="Relevance judgements. TREC qrels files load too.",
    example="qrels.csv",
)

QUERIES = Kind(
    name="queries",
    table="queries",
    columns=(Column("query_id", "string"),),
    key=("query_id",),
    segments=True,
    doc="Per-query segments (frequency band, locale, user tier...).",
    example="queries.csv",
)

EXPERIMENTS = Kind(
    name="experiments",
    table="experiments",
    columns=(
        Column("experiment_id", "string"),
        Column("name", "string"),
        Column("start_date", "date"),
        Column("end_date", "date"),
        Column("control_model", "string", nullable=True,
               doc="empty when the test changes no model (a checkout flow): it then has no offline lift"),
        Column("treatment_model", "string", nullable=True),
        Column("owner", "string", required=False, nullable=True),
        Column("decision", "string", required=False, nullable=True, doc="shipped, rolled_back..."),
        Column("description", "string", required=False, nullable=True),
    ),
    key=("experiment_id",),
    doc="One row per A/B test.",
    example="experiments.csv",
)

RESULTS = Kind(
    name="results",
    table="experiment_results",
    columns=(
        Column("experiment_id", "string"),
        Column("variant", "string", doc="control or treatment"),
        Column("metric", "string"),
        Column("n", "count", doc="units (users) in the variant"),
        Column("sum", "float", doc="sum of the metric over units"),
        Column("sum_sq", "float", doc="sum of squares of the metric over units"),
        # CUPED: all three or none (each needs the next, so one alone names the missing one)
        Column("pre_sum", "float", required=False, nullable=True, needs="pre_sum_sq",
               doc="sum over the same units of the metric in the pre-period (CUPED)"),
        Column("pre_sum_sq", "float", required=False, nullable=True, needs="sum_cross",
               doc="sum of squares of the pre-period metric (CUPED)"),
        Column("sum_cross", "float", required=False, nullable=True, needs="pre_sum",
               doc="sum over units of metric x pre-period metric (CUPED)"),
    ),
    key=("experiment_id", "variant", "metric"),
    segments=True,
    doc="Online results as sufficient statistics per variant and metric; segment columns optional "
    "(rows with empty segments are the overall result).",
    example="results.csv",
)

COVARIANCES = Kind(
    name="covariances",
    table="experiment_covariances",
    columns=(
        Column("experiment_id", "string"),
        Column("variant", "string", doc="control or treatment"),
        Column("metric_a", "string", doc="a metric of `results` for this variant"),
        Column("metric_b", "string", doc="another metric of `results`, measured on the same units"),
        Column("sum_ab", "float", doc="sum over units of metric_a * metric_b"),
    ),
    key=("experiment_id", "variant", "metric_a", "metric_b"),
    segments=True,
    doc="Cross-products of two online metrics measured on the same units, per variant (n and each "
    "metric's sum come from `results`): lets Online vs offline remove the noise two metrics share. "
    "Segment columns optional, as in `results`; load after (or in the same command as) `results`.",
)

OFFLINE = Kind(
    name="offline",
    table="offline_results",
    columns=(
        Column("experiment_id", "string"),
        Column("metric", "string", doc="offline metric, e.g. ndcg@10 or auc"),
        Column("control_value", "float"),
        Column("treatment_value", "float"),
    ),
    key=("experiment_id", "metric"),
    doc="Offline metric of both models of an experiment, for when their logs are not loaded.",
    example="offline.csv",
)

DAILY = Kind(
    name="daily",
    table="daily_metrics",
    columns=(
        Column("date", "date"),
        Column("metric", "string"),
        Column("value", "float"),
    ),
    key=("date", "metric"),
    segments=True,
    doc="A daily time series of metrics; segment columns optional (empty = overall).",
    example="daily.csv",
)

EVENTS = Kind(
    name="events",
    table="events",
    columns=(
        Column("date", "date"),
        Column("title", "string"),
        Column("category", "string", required=False, nullable=True, doc="launch, incident, holiday..."),
        Column("description", "string", required=False, nullable=True),
    ),
    key=("date", "title"),
    doc="Dated events to annotate time series with (launches, incidents, holidays).",
    example="events.csv",
)

MODELS = Kind(
    name="models",
    table="models",
    columns=(
        Column("model", "string", doc="model name, as in predictions"),
        Column("production_threshold", "float",
               doc="the threshold the model runs at in production: the Thresholds page opens there"),
        Column("description", "string", required=False, nullable=True),
    ),
    key=("model",),
    doc="One row per classification model: its production threshold (optional file).",
    example="models.csv",
)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (PREDICTIONS, RUN, QRELS, QUERIES, EXPERIMENTS, RESULTS, COVARIANCES, OFFLINE, DAILY, EVENTS, MODELS)
}

# Bookkeeping tables, created with the store.
META_DDL = (
    """CREATE TABLE IF NOT EXISTS load_log (
        load_id BIGINT, kind VARCHAR, table_name VARCHAR, source VARCHAR, rows BIGINT,
        status VARCHAR, message VARCHAR, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS segment_columns (
        table_name VARCHAR, column_name VARCHAR, PRIMARY KEY (table_name, column_name))""",
    # content of each loaded file of a kind without a key, so a copy under another path is recognised
    """CREATE TABLE IF NOT EXISTS load_hashes (load_id BIGINT, sha256 VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS model_score_range (
        model VARCHAR PRIMARY KEY, lo DOUBLE, hi DOUBLE)""",
    # counts of labelled examples per model x day x segment x score bin. segment_column '' with
    # segment_value '' is the whole model. bin b holds lo + b*width <= score < lo + (b+1)*width,
    # where width = (hi - lo) / N_BINS; bin N_BINS holds score >= hi.
    """CREATE TABLE IF NOT EXISTS prediction_bins (
        model VARCHAR, day DATE, segment_column VARCHAR, segment_value VARCHAR, bin INTEGER,
        n_pos BIGINT, n_neg BIGINT, n_unlabeled BIGINT,
        w_pos DOUBLE, w_neg DOUBLE, value_pos DOUBLE, value_neg DOUBLE)""",
    # prediction_bins summed over days (store/bin_totals.py): a model's whole range read at once
    """CREATE TABLE IF NOT EXISTS prediction_bin_totals (
        model VARCHAR, segment_column VARCHAR, segment_value VARCHAR, bin INTEGER,
        n_pos BIGINT, n_neg BIGINT, n_unlabeled BIGINT,
        w_pos DOUBLE, w_neg DOUBLE, value_pos DOUBLE, value_neg DOUBLE)""",
    # exact AP and ROC AUC of each model over its whole range, overall (segment_column '') and per
    # value of each segment column; NULL where undefined (one class). Built with the bins.
    """CREATE TABLE IF NOT EXISTS prediction_quality (
        model VARCHAR, segment_column VARCHAR, segment_value VARCHAR, n_pos BIGINT, n_neg BIGINT,
        average_precision DOUBLE, roc_auc DOUBLE)""",
    # alerts sent by `python -m dashboard alerts`: one row per alert, week and target, written only
    # after the target accepted it. target is a redacted form safe to show (never a webhook's token),
    # target_id a short hash of the real address: the dedup key (dashboard.store.deliveries).
    """CREATE TABLE IF NOT EXISTS alert_deliveries (
        week VARCHAR, kind VARCHAR, subject_key VARCHAR, channel VARCHAR, target_id VARCHAR,
        target VARCHAR, subject VARCHAR, title VARCHAR, severity VARCHAR, delivered_at TIMESTAMP,
        attempts INTEGER, PRIMARY KEY (week, kind, subject_key, channel, target_id))""",
)

N_BINS = 10_000
