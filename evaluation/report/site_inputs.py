"""The inputs key of a rendered site: `report` and `evaluation demo` skip rendering when unchanged.

The hook agreed with `render.py` (keep it this small): `render_reports(..., reuse=True)` computes
`site_key` after the page sources are written and before rendering; when `reused_pages` finds the
same key recorded in the site folder (`.render-inputs.json`) with every page present, the site is
kept as it is; otherwise the site is rendered and `write_site_key` records the key inside it (the
folder is replaced as a whole, so a key is never left beside pages of another render).

A page reads the analyses folder only (never the store or an estimator), so the key holds: every
file under analyses/ (results, tables, posteriors, the portfolio), the workspace's page sources and
_quarto.yml, this package's report code and style sheet, the language, the engine and the package
versions. The whole site is one unit: the portfolio page reads every result, so any change renders
all pages again.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

from evaluation.analysis.inputs import package_version
from evaluation.data.tables import file_sha256
from evaluation.design.model import canonical_json
from evaluation.files import write_text_atomic
from evaluation.workspace import Workspace

SITE_KEY_FILE = ".render-inputs.json"
REPORT_CODE = Path(__file__).resolve().parent  # evaluation/report: the code that writes the pages
# the packages that compute or draw what a page shows (the numbers come from the analyses)
RENDER_SOFTWARE = ("evaluation", "numpy", "pandas", "matplotlib", "arviz", "xarray", "nbclient",
                   "nbformat", "ipykernel", "jupyter_client", "pypandoc")


def site_key(ws: Workspace, *, lang: str, engine: str) -> dict[str, Any]:
    """{"sha256": ..., "facts": {...}} of everything the rendered pages are a function of."""
    software = {"python": platform.python_version(), **{n: package_version(n) for n in RENDER_SOFTWARE}}
    facts = {
        "lang": lang,
        "engine": engine,
        "analyses": _tree(ws.analyses),
        "sources": _tree(ws.reports, suffixes=(".qmd",)) | {"_quarto.yml": _file(ws.root / "_quarto.yml")},
        "report_code": _tree(REPORT_CODE, suffixes=(".py", ".css")),
        "software": dict(sorted(software.items())),
    }
    return {"sha256": hashlib.sha256(canonical_json(facts).encode("utf-8")).hexdigest(),
            "facts": facts}


def reused_pages(out_dir: Path, key: dict[str, Any], ids: list[str]) -> list[Path] | None:
    """The pages of the site in `out_dir` when it was rendered under `key` and all are there."""
    try:
        recorded = json.loads((out_dir / SITE_KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("sha256") != key["sha256"]:
        return None
    pages = [out_dir / "index.html", out_dir / "methods.html"]
    pages += [out_dir / "interventions" / f"{i}.html" for i in ids]
    return pages if all(p.exists() for p in pages) else None


def write_site_key(folder: Path, key: dict[str, Any]) -> None:
    write_text_atomic(folder / SITE_KEY_FILE, json.dumps(key, indent=2, sort_keys=True) + "\n")


def _tree(root: Path, suffixes: tuple[str, ...] | None = None) -> dict[str, str | None]:
    """SHA-256 of every file below `root` by relative path; hidden and staging entries skipped."""
    if not root.is_dir():
        return {}
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_file() and (suffixes is None or path.suffix in suffixes):
            out[rel.as_posix()] = _file(path)
    return out


def _file(path: Path) -> str | None:
    return file_sha256(path) if path.exists() else None
