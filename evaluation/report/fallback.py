"""The renderer used when Quarto (>= 1.4) is not installed: Jupyter kernel + pandoc.

A .qmd is parsed into a notebook (YAML front matter, Markdown, ```{python} cells with `#|`
options), executed with nbclient on a kernel that runs *this* interpreter (a temporary kernelspec,
so a stray system `python3` kernel is never used), turned back into Markdown the way Quarto does
(`output: asis` cells contribute their printed text as Markdown; images become files) and converted
to a standalone HTML page with pandoc (pypandoc-binary). One kernel per page.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from evaluation.design.yaml_loader import load_yaml
from evaluation.report import ReportError

CELL_START = re.compile(r"^```\{python([^}]*)\}\s*$")
CELL_END = re.compile(r"^```\s*$")
OPTION = re.compile(r"^#\|\s?(.*)$")
KERNEL_NAME = "evaluation-report-python"
CELL_TIMEOUT = 300  # seconds for one cell; a page is a few seconds


def parse_qmd(source: str, *, name: str = "<qmd>") -> nbformat.NotebookNode:
    """A notebook from .qmd text; cell options (`#| key: value`) go to cell.metadata['options']."""
    front, body = _split_front_matter(source, name)
    nb = nbformat.v4.new_notebook()
    nb.metadata["qmd"] = {"front_matter": front, "name": name}
    markdown: list[str] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        start = CELL_START.match(lines[i])
        if not start:
            markdown.append(lines[i])
            i += 1
            continue
        _flush_markdown(nb, markdown)
        j = i + 1
        while j < len(lines) and not CELL_END.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ReportError(f"{name}: line {i + 1}: a ```{{python}} cell is never closed; "
                              "add a line with ``` after the code")
        nb.cells.append(_code_cell(lines[i + 1:j], name=name, line=i + 1))
        i = j + 1
    _flush_markdown(nb, markdown)
    return nb


def _split_front_matter(source: str, name: str) -> tuple[dict[str, Any], str]:
    if not source.startswith("---"):
        return {}, source
    parts = source.split("\n---", 1)
    if len(parts) != 2:
        raise ReportError(f"{name}: the YAML front matter starting on line 1 is never closed with ---")
    front = load_yaml(parts[0][3:], source=f"{name}: front matter", error=ReportError) or {}
    return front, parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""


def _flush_markdown(nb: nbformat.NotebookNode, lines: list[str]) -> None:
    text = "\n".join(lines).strip("\n")
    if text.strip():
        nb.cells.append(nbformat.v4.new_markdown_cell(text))
    lines.clear()


def _code_cell(lines: list[str], *, name: str, line: int) -> nbformat.NotebookNode:
    options_yaml, code = [], []
    for text in lines:
        match = OPTION.match(text)
        if match and not code:
            options_yaml.append(match.group(1))
        else:
            code.append(text)
    options = (load_yaml("\n".join(options_yaml), source=f"{name}: cell options (#|) of the cell on line {line}",
                         error=ReportError, first_line=line + 1) or {}) if options_yaml else {}
    cell = nbformat.v4.new_code_cell("\n".join(code))
    cell.metadata["options"] = options
    cell.metadata["tags"] = list(options.get("tags", []))
    return cell


def set_parameters(nb: nbformat.NotebookNode, values: dict[str, Any]) -> nbformat.NotebookNode:
    """Quarto/papermill-style parameters: a cell after the `parameters` cell overrides them."""
    index = next((i for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    if index is None or not values:
        return nb
    code = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["tags"] = ["injected-parameters"]
    cell.metadata["options"] = {}
    nb.cells.insert(index + 1, cell)
    return nb


@contextmanager
def kernelspec_for_this_python() -> Iterator[Any]:
    """A KernelSpecManager that knows one kernel: ipykernel on sys.executable."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory(prefix="evaluation-kernel-") as tmp:
        folder = Path(tmp) / KERNEL_NAME
        folder.mkdir()
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "evaluation (this Python)", "language": "python",
                "env": {"MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}}
        (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        manager = KernelSpecManager(kernel_dirs=[tmp])
        manager.ensure_native_kernel = False
        yield manager


def execute(nb: nbformat.NotebookNode, *, cwd: Path, name: str,
            env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Run every cell of `nb` on a fresh kernel in `cwd`; a failing cell is a ReportError."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with kernelspec_for_this_python() as specs:
        manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        client = NotebookClient(nb, km=manager, timeout=CELL_TIMEOUT, allow_errors=False,
                                resources={"metadata": {"path": str(cwd)}})
        try:
            # env is the kernel's whole environment: this process's plus the page settings;
            # the kernel's own start-up chatter (stderr) is not the page's business
            client.execute(cwd=str(cwd), env={**os.environ, **(env or {})},
                           stderr=subprocess.DEVNULL)
        except CellExecutionError as exc:
            last = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
            raise ReportError(f"{name}: a cell failed: {last[-1] if last else exc}") from None
        finally:
            # nbclient leaves a kernel it did not create running; stop it now, not at exit
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
            manager.cleanup_resources()
    return nb


def to_markdown(nb: nbformat.NotebookNode, *, asset_dir: Path, asset_prefix: str) -> str:
    """Markdown of an executed notebook, as Quarto would assemble it (code never shown)."""
    parts: list[str] = []
    figure_no = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        options = cell.metadata.get("options", {})
        if options.get("output") is False or options.get("include") is False:
            continue
        asis = options.get("output") == "asis"
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                parts.append(output["text"] if asis else _code_block(output["text"]))
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if "image/png" in data:
                    figure_no += 1
                    asset_dir.mkdir(parents=True, exist_ok=True)
                    file = asset_dir / f"figure-{figure_no}.png"
                    file.write_bytes(base64.b64decode(data["image/png"]))
                    caption = options.get("fig-cap", "")
                    parts.append(f"![{caption}]({asset_prefix}/{file.name})")
                elif "text/markdown" in data:
                    parts.append(data["text/markdown"])
                elif "text/html" in data:
                    parts.append("```{=html}\n" + data["text/html"] + "\n```")
                elif "text/plain" in data and not asis:
                    parts.append(_code_block(data["text/plain"]))
    return "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"


def _code_block(text: str) -> str:
    return "```\n" + text.rstrip("\n") + "\n```"


def to_html(markdown: str, *, title: str, lang: str, css: str, nav_html: str, cwd: Path) -> str:
    """Standalone HTML from Markdown with pandoc (pypandoc-binary ships the pandoc binary)."""
    import pypandoc

    with tempfile.TemporaryDirectory(prefix="evaluation-pandoc-") as tmp:
        header = Path(tmp) / "header.html"
        header.write_text(f"<style>\n{css}\n</style>\n", encoding="utf-8")
        before = Path(tmp) / "before.html"
        before.write_text(nav_html, encoding="utf-8")
        args = ["--standalone", "--wrap=none", f"--metadata=pagetitle:{title}", f"--metadata=lang:{lang}",
                f"--include-in-header={header}", f"--include-before-body={before}",
                f"--resource-path={cwd}"]
        try:
            return pypandoc.convert_text(markdown, "html5", format="markdown-smart", extra_args=args)
        except (RuntimeError, OSError) as exc:
            raise ReportError(f"pandoc failed on page '{title}': {exc}") from None


def first_heading(markdown: str) -> str:
    match = re.search(r"^#\s+(.+?)(\s+\{.*\})?\s*$", markdown, flags=re.MULTILINE)
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else "Evaluatie"


def render_page(source: Path, *, target: Path, parameters: dict[str, Any], lang: str,
                css: str, nav_html: str, env: dict[str, str]) -> Path:
    """Render one .qmd to `target` (an .html path); figures go to <target stem>_files/."""
    nb = parse_qmd(source.read_text(encoding="utf-8"), name=str(source))
    set_parameters(nb, parameters)
    execute(nb, cwd=source.parent, name=str(source), env=env)
    asset_dir = target.parent / f"{target.stem}_files"
    markdown = to_markdown(nb, asset_dir=asset_dir, asset_prefix=f"{target.stem}_files")
    html = to_html(markdown, title=first_heading(markdown), lang=lang, css=css, nav_html=nav_html,
                   cwd=target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
