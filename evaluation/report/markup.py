"""The building blocks of page sections: Markdown with raw-HTML blocks, and reading result files.

Quarto and the fallback renderer print these strings from `output: asis` cells, so both get
identical page bodies. `Shared` carries the workspace and the page language.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.report import ReportError
from evaluation.report import formatting as fmt
from evaluation.report.i18n import text
from evaluation.workspace import Workspace


def raw_html(body: str) -> str:
    """A pandoc raw-HTML block: passed through untouched by Quarto and pandoc alike."""
    return f"\n```{{=html}}\n{body}\n```\n"


def heading(title: str, level: int = 2, *, anchor: str | None = None) -> str:
    attrs = f" {{#{anchor}}}" if anchor else ""
    return f"\n{'#' * level} {_md_escape(title)}{attrs}\n"


def figure(png: bytes, *, caption: str, figure_id: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return raw_html(
        f'<figure class="report-figure" id="{figure_id}">'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(caption)}" '
        f'style="max-width:100%"/><figcaption>{html.escape(caption)}</figcaption></figure>')


def table(head: list[str], rows: list[list[str]], *, table_id: str, css: str = "") -> str:
    """An HTML table; cells are plain text (escaped) unless wrapped in Markup."""
    th = "".join(f"<th>{_cell(h)}</th>" for h in head)
    thead = f"<thead><tr>{th}</tr></thead>" if any(head) else ""  # key-value tables: no header
    body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in rows)
    return raw_html(f'<table id="{table_id}" class="table report-table {css}">'
                    f"{thead}<tbody>{body}</tbody></table>")


class Markup(str):
    """Text that is already HTML (links, badges) and must not be escaped again."""


NUMERIC = re.compile(r"^[\[\-\u2212+<>]?\d[\d.,;%\s\-\u2212\[\]]*((tot|to) [\-\u2212]?\d[\d.,%]*)?$")


def _td(value: Any) -> str:
    # numbers and intervals never break across lines ("[0,74;" / "0,97]" is hard to read)
    css = ' class="num"' if not isinstance(value, Markup) and NUMERIC.match(str(value)) else ""
    return f"<td{css}>{_cell(value)}</td>"


def _cell(value: Any) -> str:
    return value if isinstance(value, Markup) else html.escape(str(value))


def _md_escape(value: str) -> str:
    return "".join("\\" + c if c in "*_`[]<>#\\" else c for c in str(value))


def verdict_badge(verdict: str | None, label: str | None) -> Markup:
    verdict = verdict or "none"
    return Markup(f'<span class="verdict verdict-{verdict}">{html.escape(label or "–")}</span>')


def paragraph(value: str) -> str:
    return f"\n{_md_escape(value)}\n"


def callout(kind: str, body: str, *, css: str) -> str:
    """A Quarto callout (a plain classed div for pandoc)."""
    return f"\n::: {{.callout-{kind} .{css}}}\n{_md_escape(body)}\n:::\n"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: not found; run `evaluation analyse` first") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}); re-run the analysis") from None


def read_csv(path: Path) -> Any:
    """A DataFrame, or None when the file is absent (pandas imported here: the methods page
    does not need it, and a page's kernel start-up is what a render waits for)."""
    if not path.exists():
        return None
    import pandas as pd

    return pd.read_csv(path)


@dataclass(frozen=True)
class Shared:
    workspace: Workspace
    lang: str

    def t(self, key: str) -> str:
        return text(key, self.lang)

    def num(self, value: Any, digits: int = 2) -> str:
        return fmt.number(value, lang=self.lang, digits=digits)

    def ci(self, low: Any, high: Any, digits: int = 2) -> str:
        return fmt.interval(low, high, lang=self.lang, digits=digits)

    def pct(self, value: Any) -> str:
        return fmt.percent(value, lang=self.lang)

    def p(self, value: Any) -> str:
        return fmt.p_value(value, lang=self.lang)

    def prob(self, value: Any) -> str:
        return fmt.probability(value, lang=self.lang)

    def date(self, value: Any) -> str:
        return fmt.date(value, lang=self.lang)

    def status(self, registration: str | None) -> str:
        """Registration status in words; an unknown status is shown as it is stored."""
        if registration in REGISTRATION_STATUSES:
            return self.t(f"status_{registration}")
        return str(registration or "–")


REGISTRATION_STATUSES = ("registered", "amended", "retrospective", "exploratory")


def guarded(what: str, build: Any, *, lang: str) -> str:
    """`build()`, or a visible error block naming `what` when it fails: one broken figure or
    section never takes the page (or the site) down with it."""
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - any failure of one figure is reported on the page
        said = text("figure_failed", lang).format(what=what, error=f"{type(exc).__name__}: {exc}")
        return raw_html(f'<div class="render-error callout-important" data-failed="{html.escape(what)}">'
                        f"<p>{html.escape(said)}</p></div>")
