"""What every command shares: the CLI context (workspace, --debug) and how paths are named."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

from evaluation.workspace import Workspace, find_workspace


@dataclass
class CliContext:
    workspace_arg: Path | None
    debug: bool

    def workspace(self) -> Workspace:
        return find_workspace(self.workspace_arg) if self.workspace_arg else find_workspace()


pass_ctx = click.make_pass_decorator(CliContext)



def workspace_for(ctx: CliContext, file: Path | None = None) -> Workspace:
    """--workspace, else the workspace holding FILE, else the one at or above the current folder."""
    if ctx.workspace_arg is None and file is not None and file.exists():
        return find_workspace(file.resolve().parent)
    return ctx.workspace()


def design_file(ctx: CliContext, file: str) -> tuple[Path, Workspace]:
    """FILE as given, or an id meaning designs/<id>.yaml in the workspace."""
    path = Path(file)
    if not path.exists() and path.suffix not in {".yaml", ".yml"} and os.sep not in file:
        path = workspace_for(ctx).design_path(file)
    return path, workspace_for(ctx, path)


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
