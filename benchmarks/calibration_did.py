"""Calibration study of the DiD randomization inference (run: python benchmarks/calibration_did.py).

Grid and quantities: `evaluation.diagnose.calibration` (persistence none / moderate / strong;
1, 3, 6, 10 treated units; unit size spread 0.5 / 1 / 1.5; treated among the largest, at random,
or selected on a recent spike). Writes benchmarks/results/calibration_did.json and the Markdown
table (stdout, and --markdown FILE). `--reduced` runs the three cells of the slow test.
`--rise-check` runs the blocking recent-rise check too, on its own cells (`rise_grid`), and writes
benchmarks/results/calibration_did_rise.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from evaluation.diagnose.calibration import (
    calibrate_cell,
    grid,
    markdown_table,
    rise_grid,
    rise_table,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=200, help="data sets per scenario and cell")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--reduced", action="store_true", help="the slow test's three cells")
    parser.add_argument("--json", type=Path,
                        default=Path(__file__).parent / "results" / "calibration_did.json")
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--cells", type=int, default=None, help="only the first N cells")
    parser.add_argument("--rise-check", action="store_true",
                        help="the recent-rise check's cells and rates (calibration_did_rise.json)")
    parser.add_argument("--part", type=int, nargs=2, default=(0, 1), metavar=("I", "N"),
                        help="run only cells I, I+N, ... (to split the cells over processes)")
    args = parser.parse_args()
    rows, started = [], time.perf_counter()
    cells = (rise_grid() if args.rise_check else grid(reduced=args.reduced))[: args.cells]
    part, parts = args.part
    if args.rise_check and args.json.name == "calibration_did.json":
        args.json = args.json.with_name("calibration_did_rise.json")
    if parts > 1:
        args.json = args.json.with_name(f"{args.json.stem}.part{part}of{parts}.json")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for i, cell in enumerate(cells):
        if i % parts != part:
            continue
        rows.append(calibrate_cell(cell, n_sims=args.sims, seed=args.seed + 10 * i,
                                   rise_check=args.rise_check))
        print(f"[{i + 1}/{len(cells)}] {cell} size {rows[-1]['size']:.3f} "
              f"coverage {rows[-1]['coverage']:.3f}", file=sys.stderr, flush=True)
        # written after every cell: a long run stopped early keeps what it has
        args.json.write_text(json.dumps({"rows": rows, "sims": args.sims, "seed": args.seed,
                                         "seconds": round(time.perf_counter() - started, 1),
                                         "machine": platform.platform()}, indent=1) + "\n")
    table = rise_table(rows) if args.rise_check else markdown_table(rows)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
