"""Reports: Quarto pages built from analyses/<id>/ and analyses/portfolio.json.

`render_reports` (render.py) runs Quarto when a recent one is installed and otherwise the fallback
(fallback.py: a Jupyter kernel per page plus pandoc). The .qmd cells stay short by calling
`evaluation.report.page`, which reads the analysis folders and returns Markdown/HTML text.
"""

from __future__ import annotations

from evaluation.errors import EvaluationError


class ReportError(EvaluationError):
    """A report that cannot be rendered (missing sources, a failing page, a missing tool)."""


__all__ = ["ReportError"]
