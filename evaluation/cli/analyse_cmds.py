"""CLI commands: analyse."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evaluation.errors import EvaluationError


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""

    @cli.command("analyse")
    @click.argument("design", required=False)
    @click.option("--all", "all_designs", is_flag=True, help="Analyse every design in designs/ and update the portfolio.")
    @click.option("--exploratory", is_flag=True,
                  help="Run even if the design does not match its registration; every output is labelled exploratory.")
    @click.option("--json", "as_json", is_flag=True, help="Print result.json instead of a summary line.")
    @click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="Incident database (default data/evaluation.duckdb or $EVALUATION_DB).")
    @click.option("--data-version", type=click.IntRange(min=1), default=None,
                  help="Analyse the incident store as it stood at this data version (default: the "
                       "latest; see `evaluation data history`). The same version gives the same result.")
    @click.option("--force", is_flag=True,
                  help="Run again even when no input of the stored result changed (by default a "
                       "result whose design, registration, control pool, data version, neighbours, "
                       "diagnosis, method and package versions are unchanged is reused).")
    @click.pass_obj
    def analyse_cmd(obj, design: str | None, all_designs: bool, exploratory: bool, as_json: bool, db: Path | None,
                    data_version: int | None, force: bool) -> None:
        """Run the registered analysis of DESIGN (an id or a design file) and write analyses/<id>/.

        A stored result whose inputs are all unchanged is reused (said on stderr); --force reruns."""
        from evaluation.analysis.incremental import analyse_or_reuse
        from evaluation.progress import progress_bar

        ws = obj.workspace()
        if all_designs == bool(design):
            raise click.UsageError("give one DESIGN (id or file) or --all")
        if design:
            outcome = analyse_or_reuse(design, workspace=ws, force=force, exploratory=exploratory,
                                       db=db, data_version=data_version)
            click.echo(outcome.status_line(), err=True)
            result = outcome.result
            click.echo(result.to_json() if as_json else result.one_line())
            return
        paths = sorted(ws.designs.glob("*.yaml"))
        if not paths:
            raise EvaluationError(f"{ws.designs}: no design files; create one with `evaluation design new ID --design did`")
        results, failures, statuses = [], [], []
        with progress_bar("analysing", len(paths)) as advance:
            for path in paths:
                try:
                    outcome = analyse_or_reuse(path, workspace=ws, force=force, exploratory=exploratory,
                                               db=db, data_version=data_version)
                    results.append(outcome.result)
                    statuses.append(outcome.status_line())
                except EvaluationError as exc:
                    failures.append(f"{path.stem}: {exc}")
                advance()
        for line in statuses:
            click.echo(line, err=True)
        from evaluation.portfolio.build import write_portfolio

        write_portfolio(ws, db=db)
        if as_json:
            click.echo(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
        else:
            for r in results:
                click.echo(r.one_line())
        for line in failures:
            click.echo(f"error: {line}", err=True)
        if failures:
            raise click.exceptions.Exit(1)
