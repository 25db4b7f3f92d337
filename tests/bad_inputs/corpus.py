"""The bad-input corpus: every file `python -m dashboard ingest` must refuse (exit 2, naming file, line or
row, column, what was found and what was expected, nothing stored), and the odd-but-valid files it
must load. `python -m tests.bad_inputs.corpus` rewrites the files in this directory from this table.

A case is (file, kind, extra CLI args, what the message must name). `BASE` is loaded first into every
case's database, so conflicts with stored rows are refused too.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

P = "model,score,label,country,ts\n"
R = "experiment_id,variant,metric,n,sum,sum_sq\n"
E = "experiment_id,name,start_date,end_date,control_model,treatment_model\n"
D = "date,metric,value\n"
HOSTILE = "![x](http://198.51.100.7/beacon.png) [link](http://198.51.100.7/) **bold** :red[x] $x$ <b>b</b> ops@example.org"

# name -> (kind, content) loaded in order into the base database
BASE: dict[str, tuple[str, str]] = {
    "base_predictions.csv": ("predictions", P + "m1,0.9,1,US,2026-11-01 10:00:00\nm1,0.3,0,US,2026-11-01 11:00:00\n"
                             "m1,0.5,,DE,2026-11-02 10:00:00\nm1,0.7,1,DE,2026-11-02 12:00:00\n"),
    "base_experiments.csv": ("experiments", E + "E1,First test,2026-01-01,2026-01-14,a,b\n"),
    "base_results.csv": ("results", R + "E1,control,ctr,100,10,10\nE1,treatment,ctr,100,12,12\n"),
    "base_daily.csv": ("daily", D + "2026-01-01,ctr,0.1\n2026-01-02,ctr,0.11\n"),
    "base_queries.csv": ("queries", "query_id,band\nq1,head\nq2,tail\n"),
    "base_qrels.csv": ("qrels", "query_id,item_id,relevance\nq1,d1,2\nq2,d2,1\n"),
    "base_run.csv": ("run", "model,query_id,item_id,score\nr1,q1,d1,0.9\nr1,q1,d2,0.5\nr1,q2,d2,0.7\n"),
}


def _segments(n: int) -> str:
    names = [f"s{i}" for i in range(n)]
    return "model,score,label," + ",".join(names) + "\n" + "m9,0.5,1," + ",".join("v" for _ in names) + "\n"


def _parquet(columns: dict) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue().to_pybytes()


# (file, kind, content, args, expected parts of the message)
REFUSED: list[tuple[str, str, object, list[str], list[str]]] = [
    # predictions
    ("p_missing_label.csv", "predictions", "model,score,country\nm2,0.5,US\n", [], ["missing column 'label'"]),
    ("p_misspelled.csv", "predictions", "model,score,lable\nm2,0.5,1\n", [], ["found 'lable': misspelled?"]),
    ("p_score_text.csv", "predictions", P + "m2,high,1,US,2026-11-01\n", [], ["line 2", "column 'score'", "found 'high'"]),
    ("p_score_nan.csv", "predictions", P + "m2,nan,1,US,2026-11-01\n", [], ["line 2", "column 'score'", "finite"]),
    ("p_score_inf.csv", "predictions", P + "m2,0.5,1,US,2026-11-01\nm2,-inf,0,US,2026-11-01\n", [],
     ["line 3", "column 'score'", "found '-inf'"]),
    ("p_score_1e308.csv", "predictions", P + "m2,1e308,1,US,2026-11-01\nm2,-1e308,0,US,2026-11-01\n", [],
     ["line 2", "line 3", "column 'score'", "within ±10^15"]),
    ("p_score_1e16.csv", "predictions", P + "m2,1e16,1,US,2026-11-01\n", [], ["line 2", "column 'score'", "10^15"]),
    ("p_score_constant_1e300.csv", "predictions", P + "m2,1e300,1,US,2026-11-01\nm2,1e300,0,US,2026-11-01\n", [],
     ["line 2", "column 'score'", "10^15"]),
    ("p_label_2.csv", "predictions", P + "m2,0.5,2,US,2026-11-01\n", [], ["line 2", "column 'label'", "0 or 1"]),
    ("p_label_text.csv", "predictions", P + "m2,0.5,yes,US,2026-11-01\n", [], ["line 2", "column 'label'", "found 'yes'"]),
    ("p_weight_zero.csv", "predictions", "model,score,label,weight\nm2,0.5,1,1\nm2,0.4,0,0\n", [],
     ["line 3", "column 'weight'", "a weight > 0"]),
    ("p_weight_negative.csv", "predictions", "model,score,label,weight\nm2,0.5,1,-2\n", [],
     ["line 2", "column 'weight'", "found '-2'"]),
    ("p_value_1e20.csv", "predictions", "model,score,label,value\nm2,0.5,1,1e20\n", [], ["line 2", "column 'value'"]),
    ("p_model_newline.csv", "predictions", 'model,score,label\n"m2\nsecond line",0.5,1\n', [],
     ["line 2", "column 'model'", "one line"]),
    ("p_model_control_char.csv", "predictions", "model,score,label\nm2\x07,0.5,1\n", [], ["line 2", "column 'model'"]),
    ("p_id_long.csv", "predictions", "model,score,label,id\nm2,0.5,1," + "i" * 2000 + "\n", [],
     ["line 2", "column 'id'", "at most 1000 characters"]),
    ("p_segment_missing_literal.csv", "predictions", P + "m2,0.5,1,(missing),2026-11-01\n", [],
     ["line 2", "column 'country'", "'(missing)'"]),
    ("p_segment_long.csv", "predictions", P + "m2,0.5,1," + "x" * 300 + ",2026-11-01\n", [],
     ["line 2", "column 'country'", "at most 200 characters"]),
    ("p_segment_newline.csv", "predictions", P + 'm2,0.5,1,"U\nS",2026-11-01\n', [], ["line 2", "column 'country'"]),
    ("p_segments_70.csv", "predictions", _segments(70), [], ["line 1", "70 segment columns", "at most 64"]),
    ("p_segments_5000.csv", "predictions", _segments(5000), [], ["line 1", "5000 segment columns", "at most 64"]),
    ("p_segment_name_60.csv", "predictions", "model,score,label," + "c" * 60 + "\nm2,0.5,1,x\n", [],
     ["line 1", "column 'ccc", "at most 48"]),
    ("p_segment_name_bad.csv", "predictions", "model,score,label,my country\nm2,0.5,1,x\n", [],
     ["column name 'my country'"]),
    ("p_reserved_row.csv", "predictions", "model,score,label,_row\nm2,0.5,1,x\n", [], ["line 1", "column '_row'", "reserved"]),
    ("p_ts_bad.csv", "predictions", P + "m2,0.5,1,US,yesterday\n", [], ["line 2", "column 'ts'", "found 'yesterday'"]),
    ("p_ts_year.csv", "predictions", P + "m2,0.5,1,US,99999-01-01 10:00:00\n", [], ["line 2", "column 'ts'", "1900-2200"]),
    ("p_empty.csv", "predictions", "", [], ["p_empty.csv", "empty"]),
    ("p_header_only.csv", "predictions", P, [], ["no data rows"]),
    ("p_extra_field.csv", "predictions", "model,score,label\nm2,0.5,1\nm2,0.4,0,oops\n", [], ["Line: 3"]),
    ("p_dup_header.csv", "predictions", "model,score,score\nm2,0.5,1\n", [], ["line 1", "column 'score' appears more than once"]),
    ("p_latin1.csv", "predictions", ("model,score,label,country\nm2,0.5,1,España\n").encode("latin-1"), [],
     ["line 2", "column 'country'", "not UTF-8", "--encoding cp1252"]),
    ("p_utf16_nobom.csv", "predictions", ("model,score,label\nm2,0.5,1\n").encode("utf-16-le"), [],
     ["line 1", "NUL bytes", "UTF-16"]),
    ("p_unknown_encoding.csv", "predictions", "model,score,label\nm2,0.5,1\n", ["--encoding", "klingon"],
     ["unknown encoding 'klingon'"]),
    ("p_same_content_copy.csv", "predictions", BASE["base_predictions.csv"][1], [], ["already loaded", "same content"]),
    ("p_unknown_ext.txt", "predictions", "model,score,label\nm2,0.5,1\n", [], ["unknown file type '.txt'"]),
    ("p_numeric_segment.parquet", "predictions",
     lambda: _parquet({"model": ["m2"], "score": [0.5], "label": [1], "age": [42]}), [],
     ["column 'age'", "BIGINT", "expected text"]),
    ("p_list_segment.parquet", "predictions",
     lambda: _parquet({"model": ["m2"], "score": [0.5], "label": [1], "tags": [["a", "b"]]}), [],
     ["column 'tags'", "expected text"]),
    ("p_file_row_number.parquet", "predictions",
     lambda: _parquet({"model": ["m2"], "score": [0.5], "label": [1], "file_row_number": ["x"]}), [],
     ["column 'file_row_number'", "reserved"]),
    ("p_score_nan.parquet", "predictions",
     lambda: _parquet({"model": ["m2", "m2"], "score": [0.5, float("nan")], "label": [1, 0]}), [],
     ["row 2", "column 'score'", "finite"]),
    ("p_not_parquet.parquet", "predictions", b"this is not parquet at all", [], ["cannot be parsed as parquet"]),
    ("p_bogus_kind.csv", "bogus", "model,score,label\nm2,0.5,1\n", [], ["unknown kind 'bogus'"]),
    # results
    ("r_negative_variance.csv", "results", R + "E2,control,ctr,10,10,1\n", [],
     ["line 2", "column 'sum_sq'", "variance is never negative"]),
    ("r_n_zero.csv", "results", R + "E2,control,ctr,0,0,0\n", [], ["line 2", "column 'n'", "n >= 1"]),
    ("r_sum_1e308.csv", "results", R + "E2,control,ctr,10,1e308,1e308\n", [], ["line 2", "column 'sum'"]),
    ("r_sum_sq_inf.csv", "results", R + "E2,control,ctr,10,1,inf\n", [], ["line 2", "column 'sum_sq'"]),
    ("r_variant_space.csv", "results", R + "E2,Control ,ctr,10,1,1\n", [], ["line 2", "column 'variant'", "'control' or 'treatment'"]),
    ("r_variant_treatment2.csv", "results", R + "E2,control,ctr,10,1,1\nE2,treatment2,ctr,10,1,1\n", [],
     ["line 3", "column 'variant'", "found 'treatment2'"]),
    ("r_n_1e20.csv", "results", R + "E2,control,ctr,1e20,1,1\n", [], ["line 2", "column 'n'", "at most 10^15"]),
    ("r_n_negative.csv", "results", R + "E2,control,ctr,-5,1,1\n", [], ["line 2", "column 'n'", "found '-5'"]),
    ("r_n_fraction.csv", "results", R + "E2,control,ctr,5.5,1,1\n", [], ["line 2", "column 'n'", "whole number"]),
    ("r_duplicate.csv", "results", R + "E2,control,ctr,5,1,1\nE2,control,ctr,6,1,1\n", [], ["lines 2, 3", "duplicate key"]),
    ("r_stored_key.csv", "results", R + "E1,control,ctr,5,1,1\n", [], ["row 2", "column 'experiment_id'", "already loaded"]),
    ("r_new_empty_segment.csv", "results", "experiment_id,variant,metric,n,sum,sum_sq,tier\nE1,control,ctr,5,1,1,\n", [],
     ["row 2", "column 'experiment_id'", "already loaded"]),
    ("r_missing_sum_sq.csv", "results", "experiment_id,variant,metric,n,sum\nE2,control,ctr,5,1\n", [], ["missing column 'sum_sq'"]),
    ("r_segment_newline.csv", "results", R.strip() + ',tier\nE2,control,ctr,5,1,1,"go\nld"\n', [],
     ["line 2", "column 'tier'"]),
    # daily
    ("d_new_empty_segment.csv", "daily", "date,metric,value,region\n2026-01-01,ctr,0.2,\n", [],
     ["row 2", "column 'date'", "already loaded"]),
    ("d_value_1e308.csv", "daily", D + "2026-02-01,ctr,1e308\n", [], ["line 2", "column 'value'", "10^15"]),
    ("d_date_with_time.csv", "daily", D + "2026-02-01 10:30,ctr,0.1\n", [], ["line 2", "column 'date'", "without a time of day"]),
    ("d_date_negative_year.csv", "daily", D + "-2024-02-01,ctr,0.1\n", [], ["line 2", "column 'date'", "1900-2200"]),
    ("d_date_99999.csv", "daily", D + "99999-02-01,ctr,0.1\n", [], ["line 2", "column 'date'"]),
    ("d_bad_date.csv", "daily", D + "02/01/2026,ctr,0.1\n", [], ["line 2", "column 'date'", "found '02/01/2026'"]),
    ("d_duplicate.csv", "daily", D + "2026-02-01,ctr,0.1\n2026-02-01,ctr,0.2\n", [], ["lines 2, 3", "duplicate key"]),
    ("d_stored_key.csv", "daily", D + "2026-01-01,ctr,0.3\n", [], ["row 2", "column 'date'", "already loaded"]),
    ("d_metric_newline.csv", "daily", D + '2026-02-01,"c\ntr",0.1\n', [], ["line 2", "column 'metric'"]),
    # experiments
    ("e_end_before_start.csv", "experiments", E + "E2,x,2026-02-10,2026-02-01,a,b\n", [],
     ["line 2", "column 'end_date'", "on or after start_date"]),
    ("e_control_is_treatment.csv", "experiments", E + "E2,x,2026-02-01,2026-02-10,a,a\n", [],
     ["line 2", "column 'treatment_model'", "other than the control_model"]),
    ("e_year_negative.csv", "experiments", E + "E2,x,-2024-02-01,2026-02-10,a,b\n", [], ["line 2", "column 'start_date'"]),
    ("e_year_99999.csv", "experiments", E + "E2,x,2026-02-01,99999-02-10,a,b\n", [], ["line 2", "column 'end_date'"]),
    ("e_time_of_day.csv", "experiments", E + "E2,x,2026-02-01 09:00,2026-02-10,a,b\n", [],
     ["line 2", "column 'start_date'", "without a time of day"]),
    ("e_name_newline.csv", "experiments", E + 'E2,"two\nlines",2026-02-01,2026-02-10,a,b\n', [], ["line 2", "column 'name'"]),
    ("e_stored.csv", "experiments", E + "E1,again,2026-02-01,2026-02-10,a,b\n", [], ["row 2", "column 'experiment_id'", "already loaded"]),
    ("e_missing_column.csv", "experiments", "experiment_id,name,start_date,end_date,control_model\nE2,x,2026-02-01,2026-02-10,a\n",
     [], ["missing column 'treatment_model'"]),
    ("e_unexpected_column.csv", "experiments", E.strip() + ",tier\nE2,x,2026-02-01,2026-02-10,a,b,gold\n", [],
     ["unexpected column 'tier'"]),
    # queries
    ("q_repeated_other_segment.csv", "queries", "query_id,band\nq7,head\nq7,tail\n", [], ["lines 2, 3", "duplicate key", "query_id='q7'"]),
    ("q_relisted_new_segment.csv", "queries", "query_id,locale\nq1,en\n", [], ["row 2", "column 'query_id'", "already loaded"]),
    ("q_segment_name_60.csv", "queries", "query_id," + "s" * 60 + "\nq9,x\n", [], ["line 1", "at most 48"]),
    ("q_missing_literal.csv", "queries", "query_id,band\nq9,(missing)\n", [], ["line 2", "column 'band'"]),
    ("q_numeric_segment.parquet", "queries", lambda: _parquet({"query_id": ["q9"], "band": [3.5]}), [],
     ["column 'band'", "DOUBLE", "expected text"]),
    # runs and qrels (TREC parsing belongs to issue 18's work; CSV forms here)
    ("run_relevance_1e30.csv", "run", "model,query_id,item_id,position,relevance\nr9,q1,d1,1,1e30\n", [],
     ["line 2", "column 'relevance'", "10^15"]),
    ("run_position_1e20.csv", "run", "model,query_id,item_id,position\nr9,q1,d1,1e20\n", [], ["line 2", "column 'position'"]),
    ("run_position_zero.csv", "run", "model,query_id,item_id,position\nr9,q1,d1,0\n", [], ["line 2", "column 'position'"]),
    ("run_score_nan.csv", "run", "model,query_id,item_id,score\nr9,q1,d1,nan\n", [], ["line 2", "column 'score'"]),
    ("run_duplicate.csv", "run", "model,query_id,item_id,score\nr9,q1,d1,0.5\nr9,q1,d1,0.4\n", [], ["lines 2, 3", "duplicate key"]),
    ("run_model_newline.csv", "run", 'model,query_id,item_id,score\n"r\n9",q1,d1,0.5\n', [], ["line 2", "column 'model'"]),
    ("qrels_relevance_1e30.csv", "qrels", "query_id,item_id,relevance\nq1,d9,1e30\n", [], ["line 2", "column 'relevance'", "10^15"]),
    ("qrels_fraction.csv", "qrels", "query_id,item_id,relevance\nq1,d9,1.5\n", [], ["line 2", "column 'relevance'", "whole number"]),
    ("qrels_stored.csv", "qrels", "query_id,item_id,relevance\nq1,d1,3\n", [], ["row 2", "column 'query_id'", "already loaded"]),
    # offline, events
    ("o_value_inf.csv", "offline", "experiment_id,metric,control_value,treatment_value\nE1,auc,0.7,inf\n", [],
     ["line 2", "column 'treatment_value'"]),
    ("o_value_1e20.csv", "offline", "experiment_id,metric,control_value,treatment_value\nE1,auc,1e20,0.7\n", [],
     ["line 2", "column 'control_value'", "10^15"]),
    ("ev_title_empty.csv", "events", "date,title\n2026-01-05,\n", [], ["line 2", "column 'title'", "is empty"]),
    ("ev_date_bad.csv", "events", "date,title\n2026-02-30,launch\n", [], ["line 2", "column 'date'"]),
]

# Odd but valid: (file, kind, content, args); they load (exit 0) and every page renders them.
VALID: list[tuple[str, str, object, list[str]]] = [
    ("v_constant_scores.csv", "predictions", "model,score,label\nconst,0.7,1\nconst,0.7,0\nconst,0.7,1\n", []),
    ("v_constant_large.csv", "predictions", "model,score,label\nbig-const,1e15,1\nbig-const,1e15,0\n", []),
    ("v_no_ts.csv", "predictions", "model,score,label\nno-ts,0.2,0\nno-ts,0.8,1\nno-ts,0.6,1\n", []),
    ("v_hostile_markdown.csv", "predictions",
     f'model,score,label,country\n"{HOSTILE}",0.4,0,"{HOSTILE}"\n"{HOSTILE}",0.9,1,"**DE**"\n', []),
    ("v_unicode.csv", "predictions", "model,score,label,city\nmodèle-ü 🚀,0.3,0,São Paulo\nmodèle-ü 🚀,0.8,1,東京\n", []),
    ("v_utf16_bom.csv", "predictions", codecs.BOM_UTF16_LE + "model,score,label\nutf16,0.2,0\nutf16,0.9,1\n".encode("utf-16-le"), []),
    ("v_utf8_bom.csv", "predictions", codecs.BOM_UTF8 + b"model,score,label\nutf8bom,0.2,0\nutf8bom,0.9,1\n", []),
    ("v_latin1_declared.csv", "predictions", "model,score,label,country\nlatin,0.5,1,España\nlatin,0.1,0,Perú\n".encode("latin-1"),
     ["--encoding", "latin-1"]),
    ("v_ts_offset.csv", "predictions", "model,score,label,ts\nzoned,0.5,1,2026-11-01 10:00:00+05:00\nzoned,0.4,0,2026-11-01T01:00:00Z\n", []),
    ("v_hostile_experiment.csv", "experiments", E + f'E9,"{HOSTILE}",2026-03-01,2026-03-14,a,b\n', []),
    ("v_results_segmented.csv", "results", R.strip() + ",tier\nE9,control,ctr,10,2,2,\nE9,treatment,ctr,10,3,3,\n"
     "E9,control,ctr,5,1,1,gold\nE9,treatment,ctr,5,2,2,gold\n", []),
    ("v_daily_hostile_segment.csv", "daily", f'date,metric,value,region\n2026-03-01,ctr,0.1,"{HOSTILE}"\n', []),
    ("v_zero_variance.csv", "results", R + "E1,control,latency,10,50,250\nE1,treatment,latency,10,50,250\n", []),
]


def write_all() -> None:
    FILES.mkdir(exist_ok=True)
    for name, (_, text) in BASE.items():
        (FILES / name).write_text(text)
    for name, _, content, *_ in REFUSED + VALID:
        data = content() if callable(content) else content
        path = FILES / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_bytes(data.encode("utf-8"))
    (FILES / "x.csv").mkdir(exist_ok=True)  # a directory named like a file
    (FILES / "x.csv" / ".keep").write_text("a directory named x.csv: refused, not a traceback\n")


if __name__ == "__main__":
    write_all()
    print(f"{len(REFUSED) + 2} refused and {len(VALID)} valid files in {FILES}")
