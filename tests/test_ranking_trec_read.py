"""The fast TREC reader (plain files read directly) against the general one (every line split on
any whitespace): the same rows and line numbers, or it steps aside; and the per-query values from
plain files against pytrec_eval (tests/test_ranking_trec.py's files carry quirks, so they take the
general reader)."""

from __future__ import annotations

import duckdb
import pytest
import pytrec_eval

from dashboard.services import ranking as svc
from dashboard.store import readers
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError
from tests.test_ranking_trec import KS, MEASURES, OURS, write_collection

PLAIN_RUN = "q1 Q0 d1 1 2.5 bm25\nq1 Q0 d2 2 1.5 bm25\nq2 Q0 d1 1 0.5 bm25\n"
VARIANTS = {
    "plain": (PLAIN_RUN, True),
    "no final newline": (PLAIN_RUN.rstrip("\n"), True),
    "byte order mark": ("\ufeff" + PLAIN_RUN, True),
    "crlf": (PLAIN_RUN.replace("\n", "\r\n"), False),
    "trailing space": (PLAIN_RUN.replace("bm25\n", "bm25 \n", 1), False),
    "vertical tab (not a separator for either)": (PLAIN_RUN.replace("d2 2", "d\v2 2"), True),
    "blank line": (PLAIN_RUN.replace("\nq2", "\n\nq2"), False),
    "blank line at the end": (PLAIN_RUN + "\n", False),
    "comment of six fields": ("# a b c d e\n" + PLAIN_RUN, False),
    "tab inside a field": (PLAIN_RUN.replace("d2 2", "d2\tx 2"), False),
    "two spaces": (PLAIN_RUN.replace("d2 2", "d2  2"), False),
    "leading space": (" " + PLAIN_RUN, False),
    "indented line": (PLAIN_RUN.replace("\nq2", "\n q2", 1), False),
    "space before a blank line": (PLAIN_RUN.replace("\nq2", "\n \nq2", 1), False),
    "extra field": (PLAIN_RUN.replace("1.5 bm25", "1.5 bm25 x"), False),
    "form feed": (PLAIN_RUN.replace("d2 2", "d2\f2"), False),
}


def _read(path, kind, plain: bool):
    con = duckdb.connect()
    with pytest.MonkeyPatch.context() as mp:
        taken = []
        fast = readers._trec_plain
        mp.setattr(readers, "_trec_plain", (lambda *a: taken.append(fast(*a)) or taken[-1]) if plain
                   else (lambda *a: None))
        sql = readers.trec_select(con, path, kind, path.parent)
        names = [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description]
        # the fast reader parses numbers as it reads; the general one keeps them as text for the checks
        cols = ", ".join(f"CAST({n} AS DOUBLE)" if n in readers.TREC_NUMBERS else n for n in names)
        rows = con.execute(f"SELECT {cols} FROM ({sql}) ORDER BY {readers.ROW}").fetchall()
    return rows, bool(taken and taken[0])


@pytest.mark.parametrize("name", VARIANTS)
def test_fast_reader_gives_the_general_readers_rows_or_steps_aside(tmp_path, name):
    text, fast_expected = VARIANTS[name]
    path = tmp_path / "run.trec"
    path.write_bytes(text.encode())
    general, _ = _read(path, "run", plain=False)
    fast, taken = _read(path, "run", plain=True)
    assert taken == fast_expected
    assert fast == general
    assert [r[-1] for r in general][-1] == (4 if name in ("blank line", "comment of six fields", "space before a blank line") else 3)


def test_a_separator_across_the_byte_check_chunks_is_seen(tmp_path):
    line = b"q1 Q0 d1 1 2.5 bm25\n"
    data = bytearray(line * ((1 << 22) // len(line) + 2))
    data[(1 << 22) - 1:(1 << 22) + 1] = b"  "  # the last byte of one chunk and the first of the next
    (tmp_path / "run.trec").write_bytes(bytes(data))
    assert readers._plain_line_count(tmp_path / "run.trec") is None
    (tmp_path / "ok.trec").write_bytes(line * ((1 << 22) // len(line) + 2))
    assert readers._plain_line_count(tmp_path / "ok.trec") == (1 << 22) // len(line) + 2


def test_a_bad_value_after_a_blank_line_is_named_by_its_line(tmp_path):
    (tmp_path / "run.trec").write_text("q1 Q0 d1 1 2.5 bm25\n\nq1 Q0 d2 2 high bm25\n")
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "r.duckdb", "run", tmp_path / "run.trec")
    assert "line 3" in str(err.value) and "high" in str(err.value)


@pytest.mark.parametrize(("kind", "line", "value"), [
    ("run", "q1 Q0 d3 3 {} bm25", "nan"), ("run", "q1 Q0 d3 3 {} bm25", "-Infinity"),
    ("run", "q1 Q0 d3 3 {} bm25", "1e16"), ("qrels", "q1 0 d3 {}", "+1.5"), ("qrels", "q1 0 d3 {}", "0x1A"),
    ("qrels", "q1 0 d3 {}", "2e15"), ("qrels", "q1 0 d3 {}", "inf")])
def test_a_value_the_checks_refuse_is_quoted_as_written_from_a_plain_file(tmp_path, kind, line, value):
    """The fast reader parses numbers; a file with one the checks refuse goes to the general
    reader, so the refusal names the line and quotes the value as the file writes it."""
    first = "q1 Q0 d1 1 2.5 bm25\nq1 Q0 d2 2 1.5 bm25\n" if kind == "run" else "q1 0 d1 1\nq1 0 d2 0\n"
    path = tmp_path / f"{kind}.trec"
    path.write_text(first + line.format(value) + "\n")
    assert readers._trec_plain(duckdb.connect(), path, kind) is None
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "r.duckdb", kind, path)
    column = "score" if kind == "run" else "relevance"
    assert f"line 3, column {column!r}: found {value!r}" in str(err.value)


def test_a_bad_value_in_a_plain_file_is_named_by_its_line(tmp_path):
    (tmp_path / "qrels.trec").write_text("q1 0 d1 1\nq1 0 d2 1\nq1 0 d3 x\n")
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "r.duckdb", "qrels", tmp_path / "qrels.trec")
    assert "line 3" in str(err.value)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """tests/test_ranking_trec.py's collection without its quirks (no extra fields, no comments)."""
    path = tmp_path_factory.mktemp("plain")
    run_file, qrels_file = write_collection(path, seed=5, n_queries=40)
    run_file.write_text("".join(" ".join(line.split()[:6]) + "\n" for line in run_file.read_text().splitlines()))
    qrels_file.write_text("".join(line + "\n" for line in qrels_file.read_text().splitlines()
                                  if not line.startswith("#")))
    con = duckdb.connect()
    assert readers._trec_plain(con, run_file, "run") and readers._trec_plain(con, qrels_file, "qrels")
    db = path / "p.duckdb"
    ingest_file(db, "qrels", qrels_file)
    ingest_file(db, "run", run_file)
    with open(qrels_file) as f:
        qrels = pytrec_eval.parse_qrel(f)
    with open(run_file) as f:
        runs = {}
        for line in f:
            qid, _, doc, _, score, tag = line.split()
            runs.setdefault(tag, {}).setdefault(qid, {})[doc] = float(score)
    con = connect(db, read_only=True)
    yield con, qrels, runs
    con.close()


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("model", ["bm25", "dense"])
def test_plain_files_match_pytrec_eval(plain, model, level):
    con, qrels, runs = plain
    expected = pytrec_eval.RelevanceEvaluator(qrels, MEASURES, relevance_level=level).evaluate(runs[model])
    for k in KS:
        got = {r["query_id"]: r for r in svc.query_values(con, model, k, "linear", level=level)}
        assert set(got) == set(expected)
        for qid, e in expected.items():
            for m, ours in OURS.items():
                assert got[qid][ours] == pytest.approx(e[f"{m}_{k}"], abs=1e-9), (qid, m, k, level)
            assert (got[qid]["mrr"], got[qid]["map"], got[qid]["rprec"], got[qid]["bpref"]) == pytest.approx(
                (e["recip_rank"], e["map"], e["Rprec"], e["bpref"]), abs=1e-9)


def test_text_rules_still_hold_when_the_plain_reader_vouches_for_the_fields(tmp_path):
    """A plain file's fields are text on one line by its bytes (unless it holds a control
    character), so the checks only measure them; every refusal stays the same."""
    run = tmp_path / "run.trec"
    run.write_text("q1 Q0 d1 1 2.5 bm25\nq1 Q0 d\x012 2 1.5 bm25\n")
    assert readers.trec_source(duckdb.connect(), run, "run", tmp_path)[1] == []
    with pytest.raises(InputError, match=r"run.trec, line 2, column 'item_id': found 'd\\x012'"):
        ingest_file(tmp_path / "r.duckdb", "run", run)
    long = "d" * 1001
    run.write_text(f"q1 Q0 d1 1 2.5 bm25\nq1 Q0 {long} 2 1.5 bm25\n")
    assert readers.trec_source(duckdb.connect(), run, "run", tmp_path)[1] == ["query_id", "item_id", "model"]
    with pytest.raises(InputError, match=r"run.trec, line 2, column 'item_id': found 'd{10}.*at most 1000 characters"):
        ingest_file(tmp_path / "r.duckdb", "run", run)
    run.write_text("q1 Q0 d1 1 2.5 bm25\n")
    for bad in ("bm\x0225", " ", "m" * 1001):  # the name given on the command line is checked as a value
        with pytest.raises(InputError, match=r"line 1, column 'model'"):
            ingest_file(tmp_path / "r.duckdb", "run", run, model=bad)


@pytest.mark.parametrize("bad", readers.NOT_PLAIN)
def test_every_not_plain_byte_pattern_sends_the_file_to_the_general_reader(tmp_path, bad):
    """The byte check alone, each pattern mid-file (DuckDB would often step aside too, so the
    variants above cannot tell whether the check itself saw it)."""
    line = b"q1 Q0 d1 1 2.5 bm25\n"
    (tmp_path / "run.trec").write_bytes(line * 3 + b"q2" + bad + b"x" + line)
    assert readers._plain_line_count(tmp_path / "run.trec") is None
    (tmp_path / "ok.trec").write_bytes(line * 4)
    assert readers._plain_line_count(tmp_path / "ok.trec") == 4
