"""How often each verdict the product says fires, beside the rate it claims.

    .venv/bin/python benchmarks/calibration.py [--quick] [--only AREA] [--markdown]

Runs every module in `benchmarks/calib/` (seeded simulations through the product's own functions)
and prints one row per rate: the claim, the simulated world, the measured rate, its target and the
number of simulations. Exit status 1 when any rate is outside its target. The table in
docs/statistics.md is this script's `--markdown` output.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import calib  # noqa: E402
from benchmarks.calib import Rate  # noqa: E402


def area_modules(only: str | None) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules(calib.__path__))
    return [n for n in names if only is None or n == only]


def run(quick: bool, only: str | None) -> list[Rate]:
    rates: list[Rate] = []
    for name in area_modules(only):
        module = importlib.import_module(f"benchmarks.calib.{name}")
        started = time.perf_counter()
        rates.extend(module.simulations(quick=quick))
        print(f"# {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return rates


def as_markdown(rates: list[Rate]) -> str:
    lines = [
        "| area | claim | scenario | measured | target | simulations | |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rates:
        mark = "ok" if r.ok else "**OFF**"
        lines.append(
            f"| {r.area} | {r.claim} | {r.scenario} | {r.rate:.1%} | {r.target_text()} "
            f"| {r.n_simulations:,} | {mark} |"
        )
    return "\n".join(lines)


def as_text(rates: list[Rate]) -> str:
    rows = [(r.area, r.claim, r.scenario, f"{r.rate:.1%}", r.target_text(), f"{r.n_simulations:,}",
             "ok" if r.ok else "OFF") for r in rates]
    header = ("area", "claim", "scenario", "measured", "target", "sims", "")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [header, *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred simulations per rate")
    parser.add_argument("--only", help="one area (a module name in benchmarks/calib/)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rates = run(args.quick, args.only)
    print(as_markdown(rates) if args.markdown else as_text(rates))
    return 0 if all(r.ok for r in rates) else 1


if __name__ == "__main__":
    raise SystemExit(main())
