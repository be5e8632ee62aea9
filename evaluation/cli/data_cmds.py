"""CLI commands: data import, data summary, data units (the incident store)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from evaluation.cli.context import CliContext, pass_ctx
from evaluation.errors import DataError, format_rows
from evaluation.workspace import DB_ENV, Workspace

DB_HELP = (
    "Incident database (default: $EVALUATION_DB, else data/evaluation.duckdb in the workspace)."
)
SHOWN_REJECTS = 10


def _db_path(ctx: CliContext, db: str | None) -> Path:
    # An explicit store (--db or $EVALUATION_DB) needs no workspace around it.
    if db or os.environ.get(DB_ENV):
        return Workspace(Path.cwd()).db_path(db)
    return ctx.workspace().db_path()


def _console():
    # Created per command so that output goes to the current sys.stdout (tests capture it).
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""

    @cli.group("data")
    def data_group() -> None:
        """Import incidents and population into the store, and summarise it."""

    @data_group.command("import")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
    @click.option(
        "--allow-rejects",
        is_flag=True,
        help="Exit 0 even when rows were quarantined (they stay in the quarantine table).",
    )
    @pass_ctx
    def import_cmd(ctx: CliContext, file: Path, db: str | None, allow_rejects: bool) -> None:
        """Import an incident file (CSV or Parquet) into the store.

        Valid rows are stored, rows already stored are recognised, and every other row goes to
        the quarantine table with its reason. Exits 1 when rows were quarantined, unless
        --allow-rejects.
        """
        from rich.table import Table

        from evaluation.data.store import import_incidents

        db_path = _db_path(ctx, db)
        report = import_incidents(file, db_path=db_path)
        console = _console()
        console.print(f"import of {report.file} into {db_path}")
        counts = Table()
        counts.add_column("rows")
        counts.add_column("number", justify="right")
        counts.add_row("read", f"{report.rows_read:,}")
        counts.add_row("stored (new)", f"{report.stored_new:,}")
        counts.add_row("already present", f"{report.already_present:,}")
        counts.add_row(
            "quarantined",
            f"{report.quarantined:,}"
            + (f" ({report.quarantined_new:,} new)" if report.quarantined else ""),
        )
        console.print(counts)
        if report.ignored_columns:
            console.print(f"ignored columns: {', '.join(report.ignored_columns)}")
        if not report.quarantined:
            return
        rejects = Table(
            title=f"Quarantined rows (first {min(SHOWN_REJECTS, report.quarantined)} "
            f"of {report.quarantined:,})",
            title_justify="left",
        )
        for name in ("row", "incident_id", "reason"):
            rejects.add_column(name, overflow="fold")
        for row in report.rejects.head(SHOWN_REJECTS).itertuples(index=False):
            rejects.add_row(str(row.row), str(row.incident_id), str(row.reason))
        console.print(rejects)
        if not allow_rejects:
            raise DataError(
                f"{file}: {report.quarantined} row(s) quarantined (rows "
                f"{format_rows(report.rejects['row'].tolist())}); the {report.stored:,} valid rows "
                f"are stored and the rejected ones are in the quarantine table of {db_path}: fix "
                "them and import again, or pass --allow-rejects to accept the import as it is"
            )

    @data_group.command("summary")
    @click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
    @click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
    @pass_ctx
    def summary_cmd(ctx: CliContext, as_json: bool, db: str | None) -> None:
        """Incidents per year, target type and outcome, and the 10 most affected municipalities."""
        from evaluation.data.summary import summary

        result = summary(_db_path(ctx, db))
        if as_json:
            click.echo(json.dumps(result, indent=2, ensure_ascii=False))
            return
        _print_summary(result)

    @data_group.command("units")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
    @pass_ctx
    def units_cmd(ctx: CliContext, file: Path, db: str | None) -> None:
        """Import population per municipality and year (columns code, name, year, population).

        All rows are checked first: any bad row stops the import with nothing stored. Importing
        again replaces the same code-years.
        """
        from evaluation.data.units import import_units

        db_path = _db_path(ctx, db)
        report = import_units(file, db_path=db_path)
        click.echo(
            f"{report.file}: {report.rows_read:,} rows -> {db_path}: {report.inserted:,} new, "
            f"{report.replaced:,} replaced, {report.unchanged:,} unchanged"
        )


def _print_summary(result: dict) -> None:
    from rich.table import Table

    from evaluation import defaults

    console = _console()
    console.print(
        f"[bold]{result['incidents']:,} incidents[/bold] in {result['store']}"
        + (f", {result['first_date']} to {result['last_date']}" if result["incidents"] else "")
    )
    by_year = Table(title="Incidents per year", title_justify="left")
    for name in ("year", "total", *defaults.TARGET_TYPES, *defaults.OUTCOMES):
        by_year.add_column(name, justify="right" if name != "year" else "left")
    for year, total in result["by_year"].items():
        kinds = result["by_target_type"][year]
        outcomes = result["by_outcome"][year]
        by_year.add_row(
            year,
            f"{total:,}",
            *(f"{kinds[k]:,}" for k in defaults.TARGET_TYPES),
            *(f"{outcomes[o]:,}" for o in defaults.OUTCOMES),
        )
    console.print(by_year)
    top = Table(title="Most affected municipalities", title_justify="left")
    for name in ("code", "municipality", "incidents"):
        top.add_column(name, justify="right" if name == "incidents" else "left")
    for entry in result["top_municipalities"]:
        top.add_row(entry["code"], entry["name"], f"{entry['incidents']:,}")
    console.print(top)
    units = result["units"]
    console.print(
        f"quarantined rows: {result['quarantined_rows']:,}; population known for "
        f"{units['codes']:,} municipalities"
        + (f" ({units['first_year']}-{units['last_year']})" if units["codes"] else "")
    )
