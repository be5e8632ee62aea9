"""`evaluation report`: render the website of reports/ into _site/.

Sources: <workspace>/reports/{index,methods,_intervention}.qmd and <workspace>/_quarto.yml (copied
from the package's templates when the workspace has none). One page per analysis is written as
reports/interventions/<id>.qmd from the single template with `id` set. Quarto >= 1.4 renders when
it is on PATH; otherwise the fallback (fallback.py) produces the same layout:
_site/index.html, _site/methods.html, _site/interventions/<id>.html.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from evaluation import defaults
from evaluation.analysis.result import RESULT_FILE
from evaluation.files import replaced_folder
from evaluation.report import ReportError
from evaluation.report import formatting as fmt
from evaluation.report.page import LANG_ENV, WORKSPACE_ENV
from evaluation.report.site_inputs import reused_pages, site_key, write_site_key
from evaluation.workspace import Workspace, find_workspace

MIN_QUARTO = (1, 4)
# the page templates: inside an installed package (templates/, see setup.py), else the repository
_PACKAGED = Path(__file__).resolve().with_name("templates")
TEMPLATE_ROOT = Path(__file__).resolve().parents[2]  # the repository: reports/ and _quarto.yml


def template_path(name: str) -> Path:
    """A page template (`index.qmd`, ..., `_quarto.yml`): the installed copy, else the repository's."""
    packaged = _PACKAGED / name
    if packaged.exists():
        return packaged
    return TEMPLATE_ROOT / name if name == "_quarto.yml" else TEMPLATE_ROOT / "reports" / name


PAGES = ("index.qmd", "methods.qmd", "_intervention.qmd")
INTERVENTION_TEMPLATE = "_intervention.qmd"
ID_LINE = re.compile(r'^id = .*$', flags=re.MULTILINE)


@dataclass(frozen=True)
class RenderResult:
    engine: str  # "quarto" | "fallback"
    out_dir: Path
    pages: tuple[Path, ...]
    seconds: float
    note: str


def quarto_version() -> tuple[int, ...] | None:
    """The installed Quarto version, or None when `quarto` is not on PATH or does not answer."""
    exe = shutil.which("quarto")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"(\d+)\.(\d+)", done.stdout.strip())
    return tuple(int(x) for x in match.groups()) if match else None


def analysis_ids(ws: Workspace) -> list[str]:
    return sorted(p.parent.name for p in ws.analyses.glob(f"*/{RESULT_FILE}"))


def copy_templates(ws: Workspace) -> None:
    """The page sources and _quarto.yml into the workspace, where they are missing (a workspace's
    own edited pages are kept)."""
    ws.reports.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        if not (ws.reports / name).exists():
            template = template_path(name)
            if not template.exists():
                raise ReportError(f"{ws.reports / name}: missing and no template at {template}; "
                                  "copy reports/ from the evaluation repository")
            shutil.copyfile(template, ws.reports / name)
    # the fallback's style sheet, for Quarto too (_quarto.yml: css: reports/style.css)
    shutil.copyfile(Path(__file__).with_name("style.css"), ws.reports / "style.css")
    if not (ws.root / "_quarto.yml").exists() and template_path("_quarto.yml").exists():
        shutil.copyfile(template_path("_quarto.yml"), ws.root / "_quarto.yml")


def prepare_sources(ws: Workspace) -> list[str]:
    """Make sure the workspace has the page sources; write one intervention page per analysis."""
    copy_templates(ws)
    template = (ws.reports / INTERVENTION_TEMPLATE).read_text(encoding="utf-8")
    if not ID_LINE.search(template):
        raise ReportError(f"{ws.reports / INTERVENTION_TEMPLATE}: the parameters cell has no "
                          "`id = ...` line; restore it from the repository")
    folder = ws.reports / "interventions"
    folder.mkdir(exist_ok=True)
    ids = analysis_ids(ws)
    for stale in folder.glob("*.qmd"):
        if stale.stem not in ids:
            stale.unlink()
    for analysis_id in ids:
        text = ID_LINE.sub(f"id = {analysis_id!r}", template, count=1)
        (folder / f"{analysis_id}.qmd").write_text(text, encoding="utf-8")
    return ids


def render_reports(workspace: Workspace | str | os.PathLike | None = None, *,
                   lang: str = defaults.LANGUAGE, out: str | os.PathLike | None = None,
                   engine: str = "auto", jobs: int | None = None,
                   reuse: bool = False) -> RenderResult:
    """Render the site; engine 'auto' uses Quarto >= 1.4 when installed, else the fallback.

    `reuse`: keep the site as it is when nothing it is rendered from changed (`site_inputs`)."""
    ws = workspace if isinstance(workspace, Workspace) else find_workspace(workspace)
    lang = fmt.check_lang(lang)
    if engine not in ("auto", "quarto", "fallback"):
        raise ReportError(f"engine: unknown value {engine!r}; use auto, quarto or fallback")
    out_dir = Path(out).resolve() if out else ws.root / "_site"
    _check_replaceable(out_dir)
    ids = prepare_sources(ws)
    env = {WORKSPACE_ENV: str(ws.root), LANG_ENV: lang}
    started = time.perf_counter()
    version = quarto_version() if engine != "fallback" else None
    if engine == "quarto" and (version is None or version < MIN_QUARTO):
        raise ReportError(f"quarto: need version >= {'.'.join(map(str, MIN_QUARTO))} on PATH, "
                          f"found {'none' if version is None else '.'.join(map(str, version))}; "
                          "install Quarto or use --engine fallback")
    # the hook of evaluation.report.site_inputs (reuse of an unchanged site); keep it this small
    key = site_key(ws, lang=lang, engine="quarto" if version and version >= MIN_QUARTO else "fallback")
    kept = reused_pages(out_dir, key, ids) if reuse else None
    if kept is not None:
        return RenderResult(engine=key["facts"]["engine"], out_dir=out_dir, pages=tuple(kept),
                            seconds=time.perf_counter() - started, note="site unchanged, reused")
    # rendered beside the site and switched in as a whole: a render that fails or is killed
    # half-way leaves the previous site, never a mix of two renders
    with replaced_folder(out_dir) as staging:
        if version is not None and version >= MIN_QUARTO:
            pages = _render_quarto(ws, out_dir=staging, lang=lang, env=env)
            note = f"rendered with Quarto {'.'.join(map(str, version))}"
            used = "quarto"
        else:
            pages = _render_fallback(ws, ids, out_dir=staging, lang=lang, env=env, jobs=jobs)
            note = ("Quarto >= 1.4 not found: rendered with the fallback (Jupyter kernel + pandoc)"
                    if engine == "auto" else "rendered with the fallback (Jupyter kernel + pandoc)")
            used = "fallback"
        write_site_key(staging, key)
        pages = [out_dir / page.relative_to(staging) for page in pages]
    return RenderResult(engine=used, out_dir=out_dir, pages=tuple(pages),
                        seconds=time.perf_counter() - started, note=note)


def render_site(workspace: Workspace | str | os.PathLike | None = None, *,
                lang: str = defaults.LANGUAGE, out: str | os.PathLike | None = None,
                echo: Callable[[str], None] = print, reuse: bool = False) -> Path:
    """Render the site, say which engine was used, and return the path of the portfolio page."""
    result = render_reports(workspace, lang=lang, out=out, reuse=reuse)
    echo(f"{result.note}: {len(result.pages)} pages in {result.seconds:.1f} s")
    return result.out_dir / "index.html"


# --- fallback --------------------------------------------------------------------------------
def _render_fallback(ws: Workspace, ids: list[str], *, out_dir: Path, lang: str,
                     env: dict[str, str], jobs: int | None) -> list[Path]:
    from evaluation.report.fallback import render_page

    jobs_list = [(ws.reports / "index.qmd", out_dir / "index.html", 0),
                 (ws.reports / "methods.qmd", out_dir / "methods.html", 0)]
    jobs_list += [(ws.reports / "interventions" / f"{i}.qmd",
                   out_dir / "interventions" / f"{i}.html", 1) for i in ids]
    css = (Path(__file__).with_name("style.css")).read_text(encoding="utf-8")

    def one(job: tuple[Path, Path, int]) -> Path:
        source, target, depth = job
        return render_page(source, target=target, parameters={}, lang=lang, css=css,
                           nav_html=_nav(depth, lang), env=env)

    workers = max(1, min(jobs or os.cpu_count() or 1, 4, len(jobs_list)))
    # one kernel per page; a few in parallel (kernels are separate processes)
    from evaluation.progress import progress_bar

    with ThreadPoolExecutor(max_workers=workers) as pool, \
            progress_bar("rendering pages", len(jobs_list)) as advance:
        futures = [pool.submit(one, job) for job in jobs_list]
        for future in as_completed(futures):
            future.result()
            advance()
        return [future.result() for future in futures]


def _check_replaceable(out_dir: Path) -> None:
    """The site folder is replaced as a whole: refuse a folder that holds something else."""
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "index.html").exists():
        raise ReportError(f"{out_dir}: not empty and not a rendered site (no index.html); the "
                          "site folder is replaced as a whole, so give an empty or new folder "
                          "with --out")


def _nav(depth: int, lang: str) -> str:
    up = "../" * depth
    home, methods = ("Portefeuille", "Methoden") if lang == "nl" else ("Portfolio", "Methods")
    return (f'<nav class="site-nav"><a href="{up}index.html">{home}</a> '
            f'<a href="{up}methods.html">{methods}</a></nav>\n')


# --- Quarto ----------------------------------------------------------------------------------
def _render_quarto(ws: Workspace, *, out_dir: Path, lang: str, env: dict[str, str]) -> list[Path]:
    """`quarto render` of the workspace project, then reports/ moved up to the site root.

    Quarto mirrors the project layout (reports/index.qmd -> _site/reports/index.html); the site
    layout is flat, so the reports/ folder is moved up and links to site_libs lose one '../'.
    """
    cmd = [shutil.which("quarto") or "quarto", "render", str(ws.root), "--output-dir",
           str(out_dir), "-M", f"lang:{lang}"]
    # Quarto's Jupyter must run this interpreter (the venv with `evaluation`), not a system one
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    quarto_env = {**os.environ, **env, "QUARTO_PYTHON": sys.executable, "PATH": path}
    done = subprocess.run(cmd, cwd=ws.root, env=quarto_env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ReportError(f"quarto render failed (exit {done.returncode}): {tail[0]}")
    flatten_site(out_dir)
    return sorted(out_dir.glob("*.html")) + sorted((out_dir / "interventions").glob("*.html"))


def flatten_site(out_dir: Path) -> None:
    """Move <out>/reports/* up to <out>/ and drop one '../' from links to site_libs/search.json."""
    nested = out_dir / "reports"
    if not nested.is_dir():
        return
    for path in sorted(nested.rglob("*")):
        if path.is_file():
            target = out_dir / path.relative_to(nested)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".html":
                text = re.sub(r"\.\./(site_libs/|search\.json)", r"\1",
                              path.read_text(encoding="utf-8"))
                target.write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(path, target)
    shutil.rmtree(nested)
