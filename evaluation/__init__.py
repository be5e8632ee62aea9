"""Pre-registered, reproducible evaluation of interventions against explosive attacks."""

from evaluation.design.model import Design, load_design
from evaluation.errors import EvaluationError

__all__ = ["Design", "EvaluationError", "analyse", "load_design"]


def analyse(design, *, exploratory: bool = False, workspace=None, data_version: int | None = None):
    """Run the registered analysis of `design` (a path or a loaded Design); see evaluation.analyse.

    `data_version`: the incident store as it stood at that data version (default: the latest).
    """
    from evaluation.analysis.run import analyse as _analyse

    return _analyse(design, exploratory=exploratory, workspace=workspace, data_version=data_version)
