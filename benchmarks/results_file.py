"""What every benchmark script shares: the machine it ran on, medians, and its JSON file.

Each script writes `benchmarks/results/<name>.json` with `{"benchmark", "machine", "rows"}`;
a row is one measured figure beside its peer from the same run and its target:
`{"what", "seconds", "runs", "peer", "peer_seconds", "ratio", "target", "met"}` (peer and ratio
null where there is no peer, target null where there is none). `benchmarks/make_readme.py` turns
the files into the table of benchmarks/README.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def machine() -> dict[str, Any]:
    """Cores, platform, load and versions: a figure means little without the machine's load."""
    from importlib.metadata import version

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "load_average_1min": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "numpy": version("numpy"), "pyfixest": version("pyfixest"),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def median_seconds(fn: Callable[[], Any], runs: int) -> tuple[float, list[float]]:
    """Median wall seconds of `runs` calls (warm up first: this times steady state)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(round(time.perf_counter() - start, 4))
    return statistics.median(times), times


def row(what: str, seconds: float, runs: list[float], *, target: float | None = None,
        peer: str | None = None, peer_seconds: float | None = None,
        target_is_ratio: bool = False, note: str = "") -> dict[str, Any]:
    """One figure; `target_is_ratio`: the target bounds seconds / peer_seconds, not seconds."""
    ratio = seconds / peer_seconds if peer_seconds else None
    measured = ratio if target_is_ratio else seconds
    return {"what": what, "seconds": round(seconds, 4), "runs": runs, "peer": peer,
            "peer_seconds": None if peer_seconds is None else round(peer_seconds, 4),
            "ratio": None if ratio is None else round(ratio, 3), "target": target,
            "target_is_ratio": target_is_ratio,
            "met": None if target is None or measured is None else bool(measured <= target),
            "note": note}


def write(name: str, rows: list[dict[str, Any]], **extra: Any) -> Path:
    """benchmarks/results/<name>.json with the machine, the rows and any extra facts."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), "rows": rows, **extra}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"numbers written to {path}")
    return path
