"""Command line: python -m dashboard {demo,ingest,serve,report,...} [--db PATH]."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from pathlib import Path
from types import ModuleType

import duckdb

from dashboard.paths import DB_ENV, DEFAULT_DB, PACKAGE_DIR, REPO_DIR, default_db
from dashboard.store.connection import MEMORY_LIMIT_ENV, memory_limit
from dashboard.store.schema import KINDS

# report KIND -> module with add_report_arguments(parser) and report(con, args) -> dict
REPORT_MODULES = {
    "thresholds": "dashboard.services.thresholds",
    "ranking": "dashboard.services.ranking",
    "experiment": "dashboard.services.experiments",
    "alignment": "dashboard.services.alignment",
    "weekly": "dashboard.services.weekly",
    "proxy": "dashboard.services.proxy",
}
# extra command -> module with add_arguments(parser) and run(args) -> int
COMMAND_MODULES = {
    "check": "dashboard.gates",
    "summarize": "dashboard.lake.cli",
    "alerts": "dashboard.delivery.cli",
}


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None  # not part of this version
        raise


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help=f"DuckDB file (default: ${DB_ENV} or {DEFAULT_DB.relative_to(REPO_DIR)})")


def _needed_modules(argv: list[str] | None) -> set[str] | None:
    """The report or command module the command line names (none for demo, ingest, serve); None
    when every module is needed: help is asked for, or no command is given yet. Importing them all
    costs ~1.7 s of CPU per process (scipy, ibis, ...), paid by every `ingest` before this."""
    if not argv or any(a in ("-h", "--help") for a in argv):
        return None
    if argv[0] == "report":
        return {REPORT_MODULES[argv[1]]} if len(argv) > 1 and argv[1] in REPORT_MODULES else None
    return {COMMAND_MODULES[argv[0]]} if argv[0] in COMMAND_MODULES else set()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With `argv`, only the module of the command it names is imported
    (the others get a bare subparser: their names still list in an error); without, all of them."""
    needed = _needed_modules(argv) if argv is not None else None
    parser = argparse.ArgumentParser(prog="dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo company and load it into a database")
    _add_db(demo)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--scale", type=float, default=1.0, help="shrink the demo (e.g. 0.05 for tests)")

    ingest = sub.add_parser("ingest", help="validate and load a CSV, Parquet or TREC file")
    ingest.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--model", help="model name for a run file (default: the TREC tag / model column)")
    ingest.add_argument("--replace", action="store_true",
                        help="overwrite stored rows with the same keys (predictions: same models)")
    ingest.add_argument("--append", action="store_true",
                        help="predictions only: load rows whose times overlap the stored ones of the same model "
                             "(different predictions, e.g. one file per country); refused otherwise")
    ingest.add_argument("--encoding", default=None,
                        help="text encoding of a CSV/TREC file that is not UTF-8 (e.g. latin-1, cp1252; "
                             "UTF-16 is recognised by its byte-order mark)")
    ingest.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                        help="how long to wait for other processes to release the database (default 60)")
    _add_db(ingest)

    serve = sub.add_parser("serve", help="start the dashboard")
    _add_db(serve)
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--allow-uploads", action="store_true",
                       help="let the Data page load files (and replace stored rows) from the browser; off by default")

    report = sub.add_parser("report", help="computed results as JSON")
    kinds = report.add_subparsers(dest="report_kind", required=True)
    for kind, module_name in REPORT_MODULES.items():
        if needed is not None and module_name not in needed:
            kinds.add_parser(kind)
            continue
        module = _optional_module(module_name)
        if module is None:
            continue
        p = kinds.add_parser(kind, help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None)
        _add_db(p)
        p.add_argument("--json", action="store_true", help=(
            "print JSON (the default)" if hasattr(module, "report_text") else "print JSON (the default and only format)"))
        module.add_report_arguments(p)
        p.set_defaults(report_module=module)

    for command, module_name in COMMAND_MODULES.items():
        if needed is not None and module_name not in needed:
            sub.add_parser(command)
            continue
        module = _optional_module(module_name)
        if module is None:
            continue
        p = sub.add_parser(command, help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None)
        _add_db(p)
        module.add_arguments(p)
        p.set_defaults(command_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    if getattr(args, "db", None) is None:
        args.db = default_db()
    try:
        memory_limit()  # a bad setting is reported here, once, not as a traceback mid-command
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    handler = {"demo": _demo, "ingest": _ingest, "serve": _serve, "report": _report}.get(args.command)
    try:
        if handler is not None:
            return handler(args)
        return int(args.command_module.run(args) or 0)
    except duckdb.OutOfMemoryException as exc:
        cap = memory_limit()
        hint = f"raise {MEMORY_LIMIT_ENV} (now {cap})" if cap else f"set {MEMORY_LIMIT_ENV} lower than RAM so DuckDB spills"
        print(f"error: DuckDB ran out of memory ({str(exc).splitlines()[0]}); {hint}. "
              "A load rolls back whole: nothing of it was stored.", file=sys.stderr)
        return 3


def _demo(args) -> int:
    from dashboard.demo.build import build_demo_db

    summary = build_demo_db(args.db, seed=args.seed, scale=args.scale)
    print(json.dumps(summary, indent=2))
    return 0


def _ingest(args) -> int:
    from dashboard.store.connection import StoreBusy
    from dashboard.store.ingest import ingest_file
    from dashboard.store.readers import InputError

    try:
        result = ingest_file(args.db, args.kind, args.path, model=args.model, replace=args.replace, append=args.append,
                             encoding=args.encoding, wait_seconds=args.wait,
                             on_wait=lambda message: print(message, file=sys.stderr, flush=True))
    except InputError as exc:
        print(f"refused: {args.path} was not loaded; the database is unchanged.", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    print(f"loaded {result.rows} rows from {result.source} into {result.table} "
          f"in {result.seconds:.1f} s" + (f" (segments: {', '.join(result.segment_columns)})"
                                          if result.segment_columns else ""))
    return 0


def ensure_db(db: Path) -> None:
    """The default database is created from the demo when missing."""
    if db.exists():
        return
    if db.resolve() != DEFAULT_DB.resolve():
        raise SystemExit(f"no database at {db}; create it with `python -m dashboard demo --db {db}` "
                         "or `python -m dashboard ingest ... --db` first")
    from dashboard.demo.build import build_demo_db

    print(f"{db} is missing: building the demo database (takes under a minute)...", flush=True)
    build_demo_db(db)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def serve_warnings(address: str, allow_uploads: bool, login: bool) -> list[str]:
    """What an operator must hear before the dashboard is reachable by others."""
    if address in LOOPBACK or address.startswith("127."):
        return []
    out = []
    if not login:
        out.append(f"warning: serving on {address} without a login: anyone who can reach this port sees the data. "
                   "Configure Streamlit's OpenID Connect login ([auth] in .streamlit/secrets.toml, see docs/data.md) "
                   "or keep the default 127.0.0.1 behind an authenticating proxy.")
    if allow_uploads:
        out.append("warning: --allow-uploads lets every viewer load files and replace stored rows.")
    return out


def _serve(args) -> int:
    from dashboard.ui.auth import configured
    from dashboard.ui.db import UPLOADS_ENV

    ensure_db(args.db)
    env = dict(os.environ, **{DB_ENV: str(Path(args.db).resolve())})
    env[UPLOADS_ENV] = "1" if args.allow_uploads else "0"
    env.setdefault("DASHBOARD_WARM", "1")  # ui/warm.py: slow pages' results computed in the background
    for warning in serve_warnings(args.address, args.allow_uploads, configured()):
        print(warning, file=sys.stderr, flush=True)
    from dashboard.store.ingest import clean_stale_scratch

    clean_stale_scratch()  # scratch copies of loads killed since the last start
    cmd = [
        # `streamlit run`, with the warming (ui/warm.py) started with the server, not at the first visit
        sys.executable, "-m", "dashboard.ui.launch", "run", str(PACKAGE_DIR / "ui" / "app.py"),
        "--server.address", args.address, "--server.port", str(args.port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    print(f"dashboard on http://{args.address}:{args.port}  (database {args.db})", flush=True)
    # cwd = repo so .streamlit/config.toml applies whatever directory the user started from;
    # exec (not a child process) so a signal to this process stops the server, leaving no orphan
    sys.stdout.flush()
    os.chdir(REPO_DIR)
    os.execve(sys.executable, cmd, env)


def _report(args) -> int:
    from dashboard.store.connection import connect

    if not Path(args.db).exists():
        ensure_db(Path(args.db))
    con = connect(args.db, read_only=True)
    try:
        result = args.report_module.report(con, args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    if hasattr(args.report_module, "report_text") and not args.json:  # a readable form, where a report has one
        print(args.report_module.report_text(result))
        return 0
    result, non_finite = finite_json(result)
    if non_finite:  # strict JSON has no NaN or Infinity: null, and where and why
        result = {**result, "non_finite": non_finite} if isinstance(result, dict) else result
    print(json.dumps(result, indent=2, default=_json_default, allow_nan=False))
    return 0


def finite_json(value, path: str = "$"):
    """`value` with every NaN or infinite number replaced by None, and a list of
    {"path", "was", "reason"} saying where (numpy scalars, dates and the like are converted first)."""
    notes: list[dict] = []

    def walk(v, where):
        if isinstance(v, dict):
            return {k: walk(x, f"{where}.{k}") for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if hasattr(v, "item") and not isinstance(v, (str, bytes)):
            try:
                v = v.item()
            except (TypeError, ValueError):
                return v
        if isinstance(v, float) and not math.isfinite(v):
            notes.append({"path": where, "was": str(v), "reason": "not a finite number (inputs out of range or an "
                          "undefined ratio); reported as null"})
            return None
        return v

    return walk(value, path), notes


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
