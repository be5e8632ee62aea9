"""Calibration table of ITS inference under persistent shocks (docs/calibration_its.md).

Run: python benchmarks/calibration_its.py [--reps N] [--part I N] [--controlled] [--model M]
The grid (persistence none/moderate/strong, 1/12/50 attacks a week, 52/156 weeks before, 8/26
after) and the model are in evaluation.diagnose.its_calibration; results go to
benchmarks/results/calibration_its[_controlled][_model].part<I>of<N>.json, written after every cell.
With --controlled each series has a comparison series of the same size (a controlled ITS).
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
    parser.add_argument("--controlled", action="store_true",
                        help="a controlled ITS (a comparison series of the same size)")
    parser.add_argument("--model", default="quasi_poisson",
                        choices=["quasi_poisson", "poisson", "negative_binomial", "linear"],
                        help="the registered model (default quasi_poisson)")
    parser.add_argument("--part", type=int, nargs=2, default=(0, 1), metavar=("I", "N"),
                        help="run only cells I, I+N, I+2N, ... (to split the grid over processes)")
    args = parser.parse_args()
    part, parts = args.part
    cells = grid(PERSISTENCE, [1, 12, 50], [52, 156], [8, 26], controlled=args.controlled,
                 model=args.model)
    started = time.time()
    kind = ("calibration_its" + ("_controlled" if args.controlled else "")
            + ("" if args.model == "quasi_poisson" else f"_{args.model}"))
    out = ROOT / "results" / f"{kind}.part{part}of{parts}.json"
    rows = []
    for i in range(part, len(cells), parts):
        # each cell keeps its own seed (seed + cell index), whatever the split
        rows.append(run_grid([cells[i]], reps=args.reps, seed=args.seed + i)[0])
        out.write_text(json.dumps({"reps": args.reps, "seed": args.seed,
                                   "seconds": round(time.time() - started), "rows": rows},
                                  indent=1))
        print(f"cell {i + 1}/{len(cells)} ({time.time() - started:.0f} s)", file=sys.stderr,
              flush=True)
    print(markdown(rows))


if __name__ == "__main__":
    main()
