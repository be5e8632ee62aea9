"""Pre-registered, reproducible evaluation of interventions against explosive attacks.

The research API: `analyse` (a design, optionally on a DataFrame, optionally without writing),
`load_result` (a saved `analyses/<id>/` back, posterior included) and `load_panel` (a design's
source panel with the design's column names, to change and pass back as `data`).
"""

from evaluation.design.model import Design, load_design
from evaluation.errors import EvaluationError

__all__ = ["Design", "EvaluationError", "analyse", "load_design", "load_panel", "load_result"]


def analyse(design, *, data=None, write: bool = True, workspace=None, exploratory: bool = False,
            data_version: int | None = None):
    """Run the registered analysis of `design` (an id, a path or a loaded Design).

    `data`: a pandas DataFrame or a panel file instead of the design's source (validated like a
    panel file; exploratory unless its rows before the start are the registered ones).
    `write=False`: return the result without writing analyses/<id>/.
    `data_version`: the incident store as it stood at that data version (default: the latest).
    Returns an `AnalysisResult`: `.effect`, `.verdict`, `.checks`, `.tidy()`, `.summary()`,
    `.plot(kind)`, `.fit`, `.idata`.
    """
    from evaluation.analysis.run import analyse as run_analysis

    return run_analysis(design, data=data, write=write, workspace=workspace,
                        exploratory=exploratory, data_version=data_version)


def load_result(folder, *, workspace=None):
    """The result saved in `folder` ("analyses/<id>" or a design id), posterior included."""
    from evaluation.analysis.saved import load_result as load

    return load(folder, workspace=workspace)


def load_panel(design, *, workspace=None, data_version: int | None = None):
    """The design's source panel (store or panel file) as a DataFrame with the design's columns."""
    from evaluation.analysis.prepare import source_frame
    from evaluation.analysis.run import resolve_design
    from evaluation.workspace import Workspace, find_workspace

    ws = workspace if isinstance(workspace, Workspace) else find_workspace(workspace)
    design_obj, _ = resolve_design(design, ws)
    return source_frame(design_obj, ws, data_version=data_version)
