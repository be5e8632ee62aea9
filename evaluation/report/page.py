"""Page entry points for the short cells of reports/*.qmd: the portfolio, an intervention, methods.

Each reads analysis files (never the store, never an estimator) and returns sections as Markdown
with raw-HTML blocks. Workspace and language come from the page's parameters or, when those are
None, from $EVALUATION_WORKSPACE / $EVALUATION_REPORT_LANG (set by `evaluation report`).
"""

from __future__ import annotations

import os
from pathlib import Path

from evaluation import defaults
from evaluation.report import ReportError
from evaluation.report import formatting as fmt
from evaluation.report.i18n import text
from evaluation.report.intervention_page import InterventionPage
from evaluation.report.markup import Shared, heading
from evaluation.report.methods_text import METHODS
from evaluation.report.portfolio_page import PortfolioPage
from evaluation.workspace import Workspace, find_workspace

WORKSPACE_ENV = "EVALUATION_WORKSPACE"
LANG_ENV = "EVALUATION_REPORT_LANG"


def resolve(workspace: str | os.PathLike | None, lang: str | None) -> tuple[Workspace, str]:
    lang = fmt.check_lang(lang or os.environ.get(LANG_ENV) or defaults.LANGUAGE)
    root = workspace or os.environ.get(WORKSPACE_ENV)
    return (Workspace(Path(root).resolve()) if root else find_workspace()), lang


def methods(*, lang: str | None = None) -> str:
    """The whole methods page body in the page language."""
    lang = fmt.check_lang(lang or os.environ.get(LANG_ENV) or defaults.LANGUAGE)
    return METHODS[lang]


def methods_title(*, lang: str | None = None) -> str:
    lang = fmt.check_lang(lang or os.environ.get(LANG_ENV) or defaults.LANGUAGE)
    return heading(text("methods_title", lang), 1)


def portfolio(*, workspace: str | os.PathLike | None = None, lang: str | None = None):
    """The portfolio page's sections (reports/index.qmd)."""
    ws, lang = resolve(workspace, lang)
    return PortfolioPage.load(Shared(ws, lang))


def intervention(analysis_id: str, *, workspace: str | os.PathLike | None = None,
                 lang: str | None = None):
    """One intervention page's sections (reports/_intervention.qmd with `id` set)."""
    if not analysis_id:
        raise ReportError("reports/_intervention.qmd: parameter `id` is empty; render it through "
                          "`evaluation report`, which writes one copy per analysis")
    ws, lang = resolve(workspace, lang)
    return InterventionPage.load(Shared(ws, lang), analysis_id)
