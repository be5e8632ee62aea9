"""CLI commands: init (a new workspace) and demo (the main job on the demo data)."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""

    @cli.command("init")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def init_cmd(directory: Path) -> None:
        """Create an empty workspace in DIRECTORY (designs/, data/, analyses/, reports/)."""
        from evaluation.report.render import copy_templates
        from evaluation.workspace import init_workspace

        ws = init_workspace(directory)
        copy_templates(ws)  # the report's page sources, from the installed package
        click.echo(f"workspace ready: {ws.root}")
        click.echo("next: put incidents in data/, run `evaluation data import FILE`, then `evaluation design new ID --design did`")

    @cli.command("demo")
    @click.option("--seed", type=int, default=None, help="Seed of the synthetic demo data (default: the fixed demo seed).")
    @click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True, help="Report language.")
    @click.option("--no-report", is_flag=True, help="Skip rendering the reports.")
    @click.option("--force", is_flag=True,
                  help="Analyse and render everything again (by default what is unchanged is reused).")
    @click.option("--only", "only", multiple=True, metavar="ID",
                  help="Analyse only this design (repeatable); the others keep their stored results.")
    @click.pass_obj
    def demo_cmd(obj, seed: int | None, lang: str, no_report: bool, force: bool,
                 only: tuple[str, ...]) -> None:
        """The main job on the demo data: generate, import, verify the registry, analyse all, report."""
        from evaluation.demo.job import run_demo

        run_demo(obj.workspace(), seed=seed, lang=lang, render=not no_report, echo=click.echo,
                 force=force, only=only)
