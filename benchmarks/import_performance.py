"""Incident import: wall time and peak memory for 1 million rows (run: python benchmarks/import_performance.py).

File: 1,000,000 incident rows (66 MB CSV) as the police deliver them: 342 municipality codes,
dates 2020-2025, half with a neighbourhood code, one row in a thousand with an unknown outcome
(quarantined), a municipality reference loaded first (every code checked against it).

Measured, each in a fresh process and a fresh store, median of --runs runs:

1. `import_incidents` (read, every check, quarantine, store, data version with its hash): time
   inside the process and the process's peak resident memory; targets <= 5 s and <= 500 MB on
   2 cores.
2. the peer: a bare DuckDB `CREATE TABLE AS SELECT * FROM read_csv(...)` of the same file into
   a store file (DuckDB reading the file itself, no checks); the ratio ours / peer.
3. the whole command `evaluation data import FILE` (interpreter start and imports included).
4. a second import of the same file into the filled store (every row already present).

The numbers are printed and written as JSON (--json, default benchmarks/results/import.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 1_000_000
TARGET_SECONDS, TARGET_MB = 5.0, 500.0
RESULTS = Path(__file__).with_name("results") / "import.json"

# Each child prints one JSON line: {"seconds": ..., "peak_mb": ...}. Peak memory is the process's
# own high-water mark (VmHWM): ru_maxrss would include the parent's memory at fork on Linux.
PEAK = "float(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024"
OURS = """
import datetime as dt, json, sys, time
from evaluation.data.store import import_incidents
start = time.perf_counter()
report = import_incidents(sys.argv[1], db_path=sys.argv[2], today=dt.date(2025, 12, 31))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": PEAK,
                  "stored": report.stored_new, "present": report.already_present,
                  "quarantined": report.quarantined}))
""".replace("PEAK", PEAK)
PEER = """
import json, sys, time
import duckdb
start = time.perf_counter()
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE incidents AS SELECT * FROM read_csv(?)", [sys.argv[1]])
rows = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
con.close()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": PEAK, "rows": rows}))
""".replace("PEAK", PEAK)
# The command's peak: the largest child of this small wrapper (started after the wrapper's exec,
# so it does not inherit the benchmark's own memory).
COMMAND = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "exit": done.returncode,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def write_files(folder: Path, rows: int, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    codes = [f"GM{i:04d}" for i in range(1, 343)]
    unit = rng.integers(0, len(codes), rows)
    hood = np.where(rng.random(rows) < 0.5, "", [f"BU{c[2:]}0101" for c in codes][0])
    frame = pd.DataFrame({
        "incident_id": [f"P{i:07d}" for i in range(rows)],
        "date": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2190, rows), unit="D")
                 ).strftime("%Y-%m-%d"),
        "municipality_code": np.asarray(codes)[unit],
        "municipality": np.asarray([f"Gemeente {c[2:]}" for c in codes])[unit],
        "target_type": rng.choice(["woning", "bedrijf", "voertuig", "overig"], rows),
        "outcome": rng.choice(["explosie", "poging"], rows),
        "neighbourhood_code": hood,
    })
    frame.loc[::1000, "outcome"] = "boem"
    incidents = folder / "incidents.csv"
    frame.to_csv(incidents, index=False)
    reference = folder / "municipalities.csv"
    pd.DataFrame({"code": codes, "name": [f"Gemeente {c[2:]}" for c in codes], "valid_from": "",
                  "valid_to": "", "successor": ""}).to_csv(reference, index=False)
    return incidents, reference


def child(script: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_store(folder: Path, reference: Path, name: str) -> Path:
    from evaluation.data.municipalities import import_municipalities

    db = folder / f"{name}.duckdb"
    db.unlink(missing_ok=True)
    import_municipalities(reference, db_path=db)
    return db


def summarise(runs: list[dict]) -> dict:
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": statistics.median(r["peak_mb"] for r in runs),
            "runs": [round(r["seconds"], 3) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the numbers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        incidents, reference = write_files(folder, args.rows)
        size_mb = incidents.stat().st_size / 1e6
        ours, peer, command, again = [], [], [], []
        for run in range(args.runs):
            db = fresh_store(folder, reference, f"ours{run}")
            ours.append(child(OURS, str(incidents), str(db)))
            again.append(child(OURS, str(incidents), str(db)))
            peer_db = folder / f"peer{run}.duckdb"
            peer.append(child(PEER, str(incidents), str(peer_db)))
            cli_db = fresh_store(folder, reference, f"cli{run}")
            command.append(child(COMMAND, sys.executable, "-m", "evaluation", "data", "import",
                                 str(incidents), "--db", str(cli_db), "--allow-rejects"))
    result = {
        "benchmark": "incident import",
        "rows": args.rows, "file_mb": round(size_mb, 1),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                    "python": platform.python_version(),
                    "duckdb": __import__("duckdb").__version__},
        "import_incidents": summarise(ours),
        "peer_duckdb_read_csv": summarise(peer),
        "ratio_to_peer": statistics.median(o["seconds"] for o in ours)
        / statistics.median(p["seconds"] for p in peer),
        "command_evaluation_data_import": summarise(command),
        "reimport_all_present": summarise(again),
        "counts": {k: ours[0][k] for k in ("stored", "present", "quarantined")},
        "targets": {"seconds": TARGET_SECONDS, "peak_mb": TARGET_MB},
    }
    main_run = result["import_incidents"]
    result["met"] = main_run["seconds"] <= TARGET_SECONDS and main_run["peak_mb"] <= TARGET_MB
    print(f"{args.rows:,} rows ({size_mb:.0f} MB CSV), {os.cpu_count()} cores, median of {args.runs}")
    for label, key in (("import_incidents", "import_incidents"),
                       ("peer: bare duckdb read_csv", "peer_duckdb_read_csv"),
                       ("`evaluation data import` (whole process)", "command_evaluation_data_import"),
                       ("second import (all present)", "reimport_all_present")):
        print(f"  {label}: {result[key]['seconds']:.2f} s, peak {result[key]['peak_mb']:.0f} MB")
    print(f"ratio to the peer: {result['ratio_to_peer']:.2f}; target <= {TARGET_SECONDS:.0f} s and "
          f"<= {TARGET_MB:.0f} MB: {'met' if result['met'] else 'NOT met'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"numbers written to {args.json}")


if __name__ == "__main__":
    main()
