"""The rendered site is replaced as a whole: a render that fails half-way leaves the previous one.

Rendering is done by a stand-in `quarto` on PATH (a shell script), so no kernel is started.
"""

from __future__ import annotations

import os

import pytest

from evaluation.files import staging_folders
from evaluation.report import ReportError
from evaluation.report.render import render_reports
from evaluation.report.site_inputs import SITE_KEY_FILE
from evaluation.workspace import init_workspace

# Writes one page into the output folder given after --output-dir, then succeeds or, with
# $FAKE_QUARTO_FAIL set, fails half-way (the second page is never written).
STAND_IN = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "1.5.57"; exit 0; fi
out="$4"
mkdir -p "$out/reports"
echo "$FAKE_QUARTO_PAGE" > "$out/reports/index.html"
if [ -n "$FAKE_QUARTO_FAIL" ]; then echo "ERROR: kernel died" >&2; exit 1; fi
echo "methods" > "$out/reports/methods.html"
"""


@pytest.fixture
def ws(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "quarto").write_text(STAND_IN)
    (bin_dir / "quarto").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return init_workspace(tmp_path / "ws")


def _site(ws) -> dict[str, str]:
    site = ws.root / "_site"
    # the pages; the site's inputs key (evaluation.report.site_inputs) is not a page
    return {str(p.relative_to(site)): p.read_text() for p in sorted(site.rglob("*"))
            if p.is_file() and p.name != SITE_KEY_FILE}


def test_a_failed_render_leaves_the_previous_site_whole(ws, monkeypatch):
    monkeypatch.setenv("FAKE_QUARTO_PAGE", "first")
    render_reports(ws)
    before = _site(ws)
    assert before == {"index.html": "first\n", "methods.html": "methods\n"}

    monkeypatch.setenv("FAKE_QUARTO_PAGE", "second")
    monkeypatch.setenv("FAKE_QUARTO_FAIL", "1")
    with pytest.raises(ReportError, match="kernel died"):
        render_reports(ws)
    assert _site(ws) == before  # not the half-written second render
    assert not staging_folders(ws.root / "_site")[0].parent.exists()

    monkeypatch.delenv("FAKE_QUARTO_FAIL")
    render_reports(ws)
    assert _site(ws) == {"index.html": "second\n", "methods.html": "methods\n"}


def test_a_folder_that_is_not_a_site_is_never_replaced(ws, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QUARTO_PAGE", "x")
    other = tmp_path / "my-documents"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ReportError, match="not empty and not a rendered site"):
        render_reports(ws, out=other)
    assert (other / "notes.txt").read_text() == "keep me"


def test_an_unchanged_site_is_reused_and_a_changed_input_renders_again(ws, monkeypatch):
    monkeypatch.setenv("FAKE_QUARTO_PAGE", "first")
    render_reports(ws, reuse=True)
    monkeypatch.setenv("FAKE_QUARTO_PAGE", "second")  # what a new render would write
    kept = render_reports(ws, reuse=True)
    assert kept.note == "site unchanged, reused" and _site(ws)["index.html"] == "first\n"
    assert render_reports(ws, lang="en", reuse=True).note != kept.note  # another language
    assert _site(ws)["index.html"] == "second\n"
    monkeypatch.setenv("FAKE_QUARTO_PAGE", "third")
    render_reports(ws, lang="en", reuse=False)  # --force
    assert _site(ws)["index.html"] == "third\n"
