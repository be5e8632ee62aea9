"""Calibration table of ITS inference under persistent shocks (docs/calibration_its.md).

Run: python benchmarks/calibration_its.py [--reps N] [--out docs/calibration_its_table.md]
The grid (persistence none/moderate/strong, 1/12/50 attacks a week, 52/156 weeks before, 8/26
after) and the model are in evaluation.diagnose.its_calibration; results also go to
benchmarks/results/calibration_its.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from evaluation.diagnose.its_calibration import PERSISTENCE, grid, markdown, run_grid

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="series per cell and scenario")
    parser.add_argument("--seed", type=int, default=2101)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "calibration_its.md")
    args = parser.parse_args()
    cells = grid(PERSISTENCE, [1, 12, 50], [52, 156], [8, 26])
    started = time.time()
    rows = run_grid(cells, reps=args.reps, seed=args.seed, progress=lambda i, n: print(
        f"cell {i}/{n} ({time.time() - started:.0f} s)", file=sys.stderr, flush=True))
    (ROOT / "results" / "calibration_its.json").write_text(json.dumps(
        {"reps": args.reps, "seed": args.seed, "seconds": round(time.time() - started), "rows": rows},
        indent=1))
    args.out.write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
