"""The meeting pack: one PDF with the portfolio and a page per intervention, from the rendered site.

`evaluation report --pdf` renders the site first; this module joins the portfolio page and every
intervention page into one printable HTML file (a page break before each intervention, a title
page with the registration ledger's head hash) and prints it with headless Chromium's print-to-PDF. An intervention prints as one page: its verdict box and footer (the folded
details stay on the site). The figures are data URIs, so the printed file needs no network.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from evaluation.portfolio.build import read_results
from evaluation.report import ReportError
from evaluation.report.i18n import text
from evaluation.workspace import Workspace

PACK_HTML = "meeting-pack.html"
PACK_PDF = "meeting-pack.pdf"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ENV = "EVALUATION_CHROMIUM"  # a browser outside PATH
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-pdf-header-footer")
PRINT_TIMEOUT = 300  # seconds; a pack of ten pages prints in a few seconds
BODY = re.compile(r"<body[^>]*>(.*)</body>", flags=re.S)
NAV = re.compile(r'<nav class="site-nav">.*?</nav>', flags=re.S)


def find_chromium() -> str | None:
    """The Chromium executable: $EVALUATION_CHROMIUM, else the first of CHROMIUM_NAMES on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).exists() else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def ledger_head(ws: Workspace) -> dict[str, Any] | None:
    """The ledger head the newest analysis ran under (as on the portfolio page's footer)."""
    heads = [r["ledger"] for r in read_results(ws) if r.get("ledger")]
    return max(heads, key=lambda h: h.get("length") or 0, default=None)


def pack_html(site: Path, *, lang: str, ledger: dict[str, Any] | None) -> Path:
    """<site>/meeting-pack.html: title page, portfolio, one page per intervention."""
    pages = [site / "index.html"] + sorted((site / "interventions").glob("*.html"))
    missing = [p for p in pages if not p.exists()]
    if missing:
        raise ReportError(f"{missing[0]}: not found; render the site (`evaluation report`) first")
    style = _style(pages[0].read_text(encoding="utf-8"))
    head = (ledger or {}).get("head_sha256") or "–"
    length = (ledger or {}).get("length")
    title = (f'<section class="pack-title"><h1>{html.escape(text("pdf_title", lang))}</h1>'
             f'<p>{html.escape(text("ledger_head", lang))}: <code id="pack-ledger-head">'
             f"{html.escape(str(head))}</code>"
             + (f" ({length})" if length is not None else "") + "</p></section>")
    parts = [title]
    for page in pages:
        body = _body(page.read_text(encoding="utf-8"))
        parts.append(f'<div class="page-break pack-page" data-source="{html.escape(page.name)}">'
                     f"{body}</div>")
    document = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"/>'
                f"<title>{html.escape(text('pdf_title', lang))}</title>{style}"
                "<style>@page { size: A4; margin: 14mm; } .page-break { break-before: page; }"
                " details.report-details { display: none; }</style></head><body>"
                + "".join(parts) + "</body></html>")
    target = site / PACK_HTML
    target.write_text(document, encoding="utf-8")
    return target


def print_pdf(source: Path, target: Path, *, chromium: str | None = None) -> Path:
    """Print an HTML file to PDF with headless Chromium (a fresh profile each time)."""
    exe = chromium or find_chromium()
    if exe is None:
        raise ReportError("--pdf: no Chromium found (looked for " + ", ".join(CHROMIUM_NAMES) +
                          f" and ${CHROMIUM_ENV}); install it (`make browser`) or render without --pdf")
    with tempfile.TemporaryDirectory(prefix="evaluation-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={target}",
               source.resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"--pdf: Chromium did not finish printing {source} within "
                              f"{PRINT_TIMEOUT} s") from None
    if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ReportError(f"--pdf: Chromium could not print {source} (exit {done.returncode}): "
                          f"{tail[0]}")
    return target


def meeting_pack(ws: Workspace, site: Path, *, lang: str, chromium: str | None = None) -> Path:
    """<site>/meeting-pack.pdf from the rendered site (see the module docstring)."""
    source = pack_html(site, lang=lang, ledger=ledger_head(ws))
    return print_pdf(source, site / PACK_PDF, chromium=chromium)


def _body(page: str) -> str:
    match = BODY.search(page)
    body = match.group(1) if match else page
    body = NAV.sub("", body)
    return body


def _style(page: str) -> str:
    return "".join(re.findall(r"<style[^>]*>.*?</style>", page, flags=re.S))
