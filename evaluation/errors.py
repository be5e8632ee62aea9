"""The one exception family users see.

Every message is meant to be printed as a single line: it names the file, field or column,
the offending rows, and the way out. The CLI prints `str(error)` without a traceback.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """Base of every error caused by user input, data or the workspace (exit code 1)."""


class DataError(EvaluationError):
    """Incident, unit or panel data that cannot be used as given."""


class DesignError(EvaluationError):
    """A design file that is invalid or does not fit the data."""


class RegistryError(EvaluationError):
    """The registry ledger is inconsistent, or a design does not match its registration."""


class WorkspaceError(EvaluationError):
    """No workspace found, or a workspace folder is missing."""


class AnalysisError(EvaluationError):
    """An analysis that cannot be run on these data (e.g. no pre-period for a treated unit)."""


def format_rows(rows, limit: int = 5) -> str:
    """Render row numbers for a message: '3, 7, 12 (and 4 more)'."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        shown += f" (and {len(rows) - limit} more)"
    return shown
