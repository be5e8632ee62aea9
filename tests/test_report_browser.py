"""The portfolio page in a real browser: headless Chromium shows the verdict table and forest plot.

Saves test-artifacts/portfolio.png. Skipped (with the reason) when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_reports import make_analysis, make_store, make_workspace, reliable_bayes

from evaluation.portfolio.build import write_portfolio
from evaluation.report.fallback import render_page
from evaluation.report.page import LANG_ENV, WORKSPACE_ENV
from evaluation.report.render import _nav, prepare_sources

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FOREST_RED = np.array([0xC0, 0x39, 0x2B]) / 255  # figures.LINE: the min_reduction line


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium not installed "
                    "(apt-get install -y chromium)")
def test_portfolio_page_in_headless_chromium(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    make_analysis(ws, "cam-utrecht", bayes=reliable_bayes(0.8, p_any=0.99, p_min=0.86))
    make_analysis(ws, "its-rotterdam", design="its", controlled=False, rr=1.08, ci=(0.92, 1.27),
                  p_value=0.35, seed=4)
    make_store(ws.db_path())
    write_portfolio(ws)
    prepare_sources(ws)
    # only the portfolio page is needed here: one kernel, as `evaluation report` does per page
    site = ws.root / "_site"
    css = (Path(__file__).resolve().parents[1] / "evaluation" / "report" / "style.css").read_text()
    index = render_page(ws.reports / "index.qmd", target=site / "index.html", parameters={},
                        lang="nl", css=css, nav_html=_nav(0, "nl"),
                        env={WORKSPACE_ENV: str(ws.root), LANG_ENV: "nl"})

    dom = _chromium("--dump-dom", index.as_uri())
    assert dom.returncode == 0, dom.stderr[-500:]
    table = re.search(r'<table id="verdict-table".*?</table>', dom.stdout, flags=re.S)
    assert table, "verdict table not in the DOM"
    rows = re.findall(r"<tr>.*?</tr>", table.group(0), flags=re.S)
    assert len(rows) == 3  # header + two interventions
    assert "doorzetten" in table.group(0) and "stoppen" in table.group(0)
    assert re.search(r'<figure[^>]*id="forest-plot"[^>]*><img src="data:image/png;base64,', dom.stdout)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "portfolio.png"
    shot.unlink(missing_ok=True)
    done = _chromium("--window-size=1200,1800", f"--screenshot={shot}", index.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-500:]
    import matplotlib.image as mpimg

    pixels = mpimg.imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert pixels.std() > 0.05, "screenshot is blank"
    # the forest plot is drawn: its red min_reduction line is on screen
    red = np.all(np.abs(pixels - FOREST_RED) < 0.06, axis=-1)
    assert red.sum() > 50, "forest plot not visible in the screenshot"
