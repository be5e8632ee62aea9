"""Deterministic text for result files, and writing them atomically.

Every file the framework writes (results, diagnoses, the portfolio) goes through these helpers, so
equal content always gives equal bytes: JSON with sorted keys and floats rounded to 12 significant
digits, CSV with a fixed float format and '\n' line ends. A folder of files that belong together
(`analyses/<id>/`, the rendered site) is replaced as a whole (`replaced_folder`).
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def frame_to_csv(frame: pd.DataFrame) -> str:
    """Deterministic CSV text: fixed float format, '\n' line ends."""
    return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n", date_format="%Y-%m-%d")


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's deterministic CSV text (the data hash of panels and pre-periods)."""
    return hashlib.sha256(frame_to_csv(frame).encode("utf-8")).hexdigest()


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def staging_folders(target: Path) -> tuple[Path, Path]:
    """Where a new `target` is built and where the old one waits while they are switched.

    Both sit beside `target` (same file system, so a rename is atomic) in a hidden folder, two
    levels down, where no reader of `<parent>/*/result.json` looks.
    """
    staging = target.parent / f".{target.name}.staging"
    return staging / "new", staging / "old"


def recover_folder(target: Path) -> None:
    """Finish or undo a switch that a killed run left half-done; drop an unfinished new folder."""
    new, old = staging_folders(target)
    if old.exists():
        if target.exists():  # killed after the switch: the old folder is no longer needed
            shutil.rmtree(old)
        else:  # killed between the two renames: the previous complete folder comes back
            os.replace(old, target)
    if new.exists():  # killed while writing: an incomplete run is never used
        shutil.rmtree(new)
    if new.parent.exists() and not any(new.parent.iterdir()):
        new.parent.rmdir()


@contextmanager
def replaced_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty folder to write into; on success it replaces `target` as a whole.

    `target` is therefore always one complete run: the previous one until the new one is
    complete, then the new one. On an error the new folder is removed and `target` is untouched;
    a run killed outright is cleaned up by `recover_folder` at the start of the next one.
    """
    target = Path(target)
    recover_folder(target)
    new, old = staging_folders(target)
    new.mkdir(parents=True)
    try:
        yield new
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        recover_folder(target)
        raise
    if target.exists():
        os.replace(target, old)  # a folder cannot replace a non-empty one: move it aside first
    os.replace(new, target)
    recover_folder(target)


# JSON has no infinity. An unbounded end of an interval (a one-sided interval, a randomization
# interval open above) is written as these strings, never as null: null means "not available",
# which is something else. CSV files write the same text (pandas' own "inf" / "-inf").
POSITIVE_INFINITY = "inf"
NEGATIVE_INFINITY = "-inf"


def clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, floats rounded to 12 significant digits, NaN to
    None, +-infinity to POSITIVE_INFINITY / NEGATIVE_INFINITY ("inf" / "-inf")."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isinf(x):
            return POSITIVE_INFINITY if x > 0 else NEGATIVE_INFINITY
        if math.isnan(x):
            return None
        return float(f"{x:.12g}")
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def read_number(value: Any) -> float | None:
    """A number as `clean` wrote it, back as a float: "inf" / "-inf" to +-infinity, None (or
    anything that is not a number) to None. Readers of result files use this, never float()."""
    if value == POSITIVE_INFINITY:
        return math.inf
    if value == NEGATIVE_INFINITY:
        return -math.inf
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    x = float(value)
    return None if math.isnan(x) else x
