"""`load_result`: an `AnalysisResult` back from its folder `analyses/<id>/`.

Everything saved comes back: result.json, the tidy estimates, the series and event study, and
the posterior (posterior.nc, as ArviZ InferenceData). The fitted model object is not saved;
`result.fit` of a loaded result says so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.analysis.result import (
    ESTIMATES_FILE,
    EVENT_STUDY_FILE,
    POSTERIOR_FILE,
    RESULT_FILE,
    SCHEMA_VERSION,
    SERIES_FILE,
    AnalysisResult,
)
from evaluation.errors import AnalysisError
from evaluation.estimators.output import Check
from evaluation.workspace import find_workspace

# columns of the saved tables that hold text (TIDY_COLUMNS, EVENT_COLUMNS, the series' labels)
TEXT_COLUMNS = ("term", "method", "scale", "status", "reason", "group", "period")

# result.json keys that are not `AnalysisResult` fields of the same name
_NOT_FIELDS = ("schema_version", "checks")


def load_result(folder: str | os.PathLike, *, workspace: str | os.PathLike | None = None,
                with_posterior: bool = True) -> AnalysisResult:
    """The result saved in `folder` (e.g. "analyses/<id>"), or a design id's folder in the
    workspace's analyses/. `with_posterior=False` leaves posterior.nc unread (`.idata` None)."""
    path = Path(folder)
    if not (path / RESULT_FILE).exists() and not path.is_absolute() and len(path.parts) == 1:
        candidate = find_workspace(workspace).analysis_dir(str(folder))
        path = candidate if (candidate / RESULT_FILE).exists() else path
    result_file = path / RESULT_FILE
    if not result_file.exists():
        raise AnalysisError(f"{path}: no {RESULT_FILE} here; give an analyses/<id> folder "
                            "(written by `evaluation analyse`)")
    try:
        saved: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise AnalysisError(f"{result_file}: not valid JSON ({exc}); analyse the design again") from None
    version = saved.get("schema_version")
    if version is not None and version > SCHEMA_VERSION:
        raise AnalysisError(f"{result_file}: schema_version {version} is newer than this version of "
                            f"evaluation reads ({SCHEMA_VERSION}); update the package")
    fields = {k: v for k, v in saved.items() if k not in _NOT_FIELDS}
    return AnalysisResult(
        **fields,
        checks=tuple(Check.from_dict(c) for c in saved.get("checks") or ()),
        estimates=_csv(path / ESTIMATES_FILE, required=True),
        series=_csv(path / SERIES_FILE), event_study=_csv(path / EVENT_STUDY_FILE),
        posterior=_posterior(path / POSTERIOR_FILE) if with_posterior else None,
        origin=f"loaded from {path}",
    )


def _csv(path: Path, *, required: bool = False) -> pd.DataFrame | None:
    if not path.exists():
        if required:
            raise AnalysisError(f"{path}: missing; the folder is incomplete, analyse the design again")
        return None
    # text columns stay text when every value is empty (e.g. no term has a `reason`); an empty
    # status or reason is written as "" by the estimators and comes back as ""
    frame = pd.read_csv(path, keep_default_na=True, dtype={c: "str" for c in TEXT_COLUMNS})
    for column in ("status", "reason"):
        if column in frame:
            frame[column] = frame[column].fillna("")
    return frame


def _posterior(path: Path) -> Any:
    if not path.exists():
        return None
    import arviz as az

    return az.from_netcdf(str(path))
