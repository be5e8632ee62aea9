"""Deterministic text for result files, and writing them atomically.

Every file the framework writes (results, diagnoses, the portfolio) goes through these helpers, so
equal content always gives equal bytes: JSON with sorted keys and floats rounded to 12 significant
digits, CSV with a fixed float format and '\n' line ends.
"""

from __future__ import annotations

import hashlib
import math
import os
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


def clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, floats rounded to 12 significant digits, NaN to None."""
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
        if not math.isfinite(x):
            return None
        return float(f"{x:.12g}")
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
