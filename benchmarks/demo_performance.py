"""The main job end to end: `evaluation demo` as a whole command (run: python benchmarks/demo_performance.py).

Measured on the repository's own workspace (its designs/, data/, analyses/, _site/), each a fresh
process timed from outside (interpreter start, imports, data generation and import included):

1. `evaluation demo --force`: every analysis (eight registered designs, each with its Bayesian
   model) and every page again, in a warm environment (installed packages, compiled caches);
   target <= 90 s on 2 cores;
2. `evaluation demo` when nothing changed: every result and the site reused; target <= 15 s.

The peer of both is `evaluation --help` (interpreter start and the command's imports), so the
ratio says how much of the job is work. Writes benchmarks/results/demo.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_file import row, write

ROOT = Path(__file__).resolve().parents[1]
EVALUATION = [sys.executable, "-m", "evaluation"]


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([*EVALUATION, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"evaluation {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return round(seconds, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force-runs", type=int, default=1,
                        help="runs of the whole job (0: skip; minutes each)")
    parser.add_argument("--runs", type=int, default=5, help="runs of the unchanged job")
    args = parser.parse_args()

    timed(["demo"])  # warm: the results and the site exist, caches are compiled
    peer = [timed(["--help"]) for _ in range(args.runs)]
    peer_seconds = statistics.median(peer)
    rows = []
    if args.force_runs:
        force = [timed(["demo", "--force"]) for _ in range(args.force_runs)]
        print(f"evaluation demo --force: median {statistics.median(force):.1f} s {force}")
        rows.append(row("`evaluation demo --force`: 8 analyses with Bayesian models, portfolio, "
                        "site", statistics.median(force), force, target=90.0,
                        peer="`evaluation --help`", peer_seconds=peer_seconds))
    unchanged = [timed(["demo"]) for _ in range(args.runs)]
    print(f"evaluation demo, nothing changed: median {statistics.median(unchanged):.1f} s "
          f"{unchanged}; evaluation --help: {peer_seconds:.2f} s")
    rows.append(row("`evaluation demo`, nothing changed (results and site reused)",
                    statistics.median(unchanged), unchanged, target=15.0,
                    peer="`evaluation --help`", peer_seconds=peer_seconds))
    write("demo", rows)


if __name__ == "__main__":
    main()
