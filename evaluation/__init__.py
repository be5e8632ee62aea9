"""Pre-registered, reproducible evaluation of interventions against explosive attacks."""

from evaluation.design.model import Design, load_design
from evaluation.errors import EvaluationError

__all__ = ["Design", "EvaluationError", "analyse", "load_design"]


def analyse(design, *, exploratory: bool = False, workspace=None):
    """Run the registered analysis of `design` (a path or a loaded Design); see evaluation.analyse."""
    from evaluation.analysis.run import analyse as _analyse

    return _analyse(design, exploratory=exploratory, workspace=workspace)
