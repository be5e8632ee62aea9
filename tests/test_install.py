"""Installable like a library (issue 18): `pip install .` (not editable) into a fresh virtual
environment gives a package that runs `evaluation init`, `demo` and `report` away from the
repository: the report templates and style sheet travel as package data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 1500) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))}: {done.stdout[-1500:]} {done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.mark.slow
def test_a_non_editable_install_runs_init_demo_and_report(tmp_path):
    # the committed sources only, copied away from the repository (no stray build files)
    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / "bin"
    # dependencies from the test environment; its editable `evaluation` is not seen:
    # a path listed in a .pth file is not a site directory, so its own .pth files are not run
    site = Path(subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EVALUATION_DB")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    # pip from the test environment; the build backend (setuptools>=68) in pip's isolated build
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "-q", str(source)],
         cwd=tmp_path, env=env)
    where = _run([str(bin_dir / "python"), "-c", "import evaluation; print(evaluation.__file__)"],
                 cwd=tmp_path, env=env)
    assert str(venv) in where and str(REPO) not in where

    _run([str(bin_dir / "evaluation"), "init", "ws"], cwd=tmp_path, env=env)
    ws = tmp_path / "ws"
    assert (ws / "reports" / "index.qmd").exists() and (ws / "_quarto.yml").exists()
    _run([str(bin_dir / "evaluation"), "demo", "--no-report"], cwd=ws, env=env)
    _run([str(bin_dir / "evaluation"), "report"], cwd=ws, env=env)
    pages = sorted(p.relative_to(ws).as_posix() for p in ws.rglob("index.html"))
    assert pages, "no index.html rendered"
