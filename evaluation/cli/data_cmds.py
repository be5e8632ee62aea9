"""CLI commands: data import | units | municipalities | correct | retract | history | summary."""

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


def row_file_options(command):
    """FILE, --db and --allow-rejects: the options of commands that quarantine bad rows."""
    command = pass_ctx(command)
    command = click.option(
        "--allow-rejects",
        is_flag=True,
        help="Exit 0 even when rows were quarantined (they stay in the quarantine table).",
    )(command)
    command = click.option("--db", type=click.Path(dir_okay=False), default=None,
                           help=DB_HELP)(command)
    return click.argument("file", type=click.Path(dir_okay=False, path_type=Path))(command)


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""

    @cli.group("data")
    def data_group() -> None:
        """Import, correct and summarise the incident store (population, municipalities)."""

    @data_group.command("import")
    @row_file_options
    def import_cmd(ctx: CliContext, file: Path, db: str | None, allow_rejects: bool) -> None:
        """Import an incident file (CSV or Parquet) into the store.

        Valid rows are stored, rows already stored are recognised, and every other row goes to
        the quarantine table with its reason. Exits 1 when rows were quarantined, unless
        --allow-rejects.
        """
        from evaluation.data.store import import_incidents

        db_path = _db_path(ctx, db)
        report = import_incidents(file, db_path=db_path)
        _print_import(report, f"import of {report.file} into {db_path}", "stored (new)")
        _fail_on_rejects(report, file, db_path, allow_rejects, "import")

    @data_group.command("correct")
    @row_file_options
    def correct_cmd(ctx: CliContext, file: Path, db: str | None, allow_rejects: bool) -> None:
        """Correct stored incidents from FILE: column incident_id plus the columns to change.

        Empty cells leave a value as it is; an optional `reason` column is kept with each
        correction. Nothing is overwritten: the corrected values are added as a new data version
        and older versions stay available (`evaluation data history`). Corrected values pass the
        same checks as an import; failing rows are quarantined (exit 1 unless --allow-rejects).
        """
        from evaluation.data.corrections import correct_incidents

        db_path = _db_path(ctx, db)
        report = correct_incidents(file, db_path=db_path)
        _print_import(report, f"corrections from {report.file} in {db_path}", "corrected")
        _fail_on_rejects(report, file, db_path, allow_rejects, "correction")

    @data_group.command("retract")
    @click.argument("ids", nargs=-1, required=True)
    @click.option("--reason", required=True, help="Why the incidents are withdrawn (kept with them).")
    @click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
    @pass_ctx
    def retract_cmd(ctx: CliContext, ids: tuple[str, ...], reason: str, db: str | None) -> None:
        """Withdraw the incidents IDS (e.g. double registrations) from every later analysis.

        Nothing is deleted: the retraction is a new data version, and analyses of earlier
        versions still see the incidents. All or nothing: an unknown id retracts none.
        """
        from evaluation.data.corrections import retract_incidents

        db_path = _db_path(ctx, db)
        report = retract_incidents(ids, reason=reason, db_path=db_path)
        click.echo(
            f"{report.retracted:,} of {report.requested:,} incident(s) retracted"
            + (f", {report.already_retracted:,} already retracted" if report.already_retracted
               else "")
            + f"; {_version_text(report.version, report.data_version)}"
        )

    @data_group.command("history")
    @click.option("--verify", "verify_all", is_flag=True,
                  help="Recompute the hash of every version, not only the latest.")
    @click.option("--json", "as_json", is_flag=True, help="Print the history as JSON.")
    @click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
    @pass_ctx
    def history_cmd(ctx: CliContext, verify_all: bool, as_json: bool, db: str | None) -> None:
        """List the data versions: every import, correction and retraction, with its hash.

        The latest version's hash is recomputed from the stored records (every version's with
        --verify); a mismatch means the store was changed outside `evaluation` (exit 1).
        """
        from evaluation.data.versions import history, verify_versions

        db_path = _db_path(ctx, db)
        versions = history(db_path)
        check = verify_versions(db_path, every=verify_all)
        if as_json:
            click.echo(json.dumps(versions, indent=2, ensure_ascii=False))
        else:
            _print_history(versions)
        if not check.ok:
            raise DataError(
                f"{db_path}: the stored data no longer match their recorded hash "
                f"({'; '.join(check.mismatches)}): the store was changed outside `evaluation`; "
                "restore it from a backup or re-import the files"
            )
        if not as_json:
            checked = "every version" if verify_all else f"version {check.checked[-1]}"
            click.echo(f"hash check: {checked} matches the stored data")

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

        All rows are checked first: any bad row stops the import with nothing stored. The number
        format is decided for the whole file (a ';'-separated file is Dutch: 670.000 is 670000);
        an ambiguous file, or a population below 500 or above 1.5 million, is refused with the
        rows. New figures for the same code-years supersede the old ones as a new data version.
        """
        from evaluation.data.units import import_units

        db_path = _db_path(ctx, db)
        report = import_units(file, db_path=db_path)
        click.echo(
            f"{report.file}: {report.rows_read:,} rows ({report.number_format} number format) -> "
            f"{db_path}: {report.inserted:,} new, {report.replaced:,} replaced, "
            f"{report.unchanged:,} unchanged; {_version_text(report.version, None)}"
        )

    @data_group.command("municipalities")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
    @pass_ctx
    def municipalities_cmd(ctx: CliContext, file: Path, db: str | None) -> None:
        """Import the municipality reference (columns code, name, valid_from, valid_to, successor).

        Dates are YYYY-MM-DD, empty for open-ended; `successor` is the code a municipality
        merged into. With a reference, incident codes must be listed in it, names come from it,
        and analyses count merged municipalities as their successor throughout. The list is
        checked and stored as a whole; a newer list supersedes it as a new data version.
        """
        from evaluation.data.municipalities import import_municipalities

        db_path = _db_path(ctx, db)
        report = import_municipalities(file, db_path=db_path)
        click.echo(
            f"{report.file}: {report.rows_read:,} municipalities ({report.successions:,} merged "
            f"into a successor) -> {db_path}; {_version_text(report.version, None)}"
        )
        if report.unknown_in_store:
            shown = [f"{code} ({n})" for code, n in report.unknown_in_store]
            raise DataError(
                f"{db_path}: stored incidents carry code(s) {format_rows(shown)} that are not in "
                f"{file}; correct them with `evaluation data correct FILE` or retract them with "
                "`evaluation data retract ID... --reason ...` before analysing"
            )


def _version_text(version: int | None, current: int | None) -> str:
    if version is not None:
        return f"data version {version}"
    return "nothing changed" + (f" (data version stays {current})" if current else "")


def _print_import(report, title: str, new_label: str) -> None:
    from rich.table import Table

    console = _console()
    console.print(title)
    counts = Table()
    counts.add_column("rows")
    counts.add_column("number", justify="right")
    counts.add_row("read", f"{report.rows_read:,}")
    counts.add_row(new_label, f"{report.stored_new:,}")
    counts.add_row("already present", f"{report.already_present:,}")
    counts.add_row(
        "quarantined",
        f"{report.quarantined:,}"
        + (f" ({report.quarantined_new:,} new)" if report.quarantined else ""),
    )
    console.print(counts)
    console.print(_version_text(report.version, report.data_version))
    if report.ignored_columns:
        console.print(f"ignored columns: {', '.join(report.ignored_columns)}")
    mismatches = report.name_mismatches
    if len(mismatches):
        first = mismatches.iloc[0]
        console.print(
            f"{len(mismatches):,} stored row(s) name another municipality than the reference "
            f"does for their code (e.g. row {first['row']}: {first['municipality_code']} "
            f"'{first['municipality']}', reference '{first['reference']}'); the code is used"
        )
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


def _fail_on_rejects(report, file: Path, db_path: Path, allow_rejects: bool, what: str) -> None:
    if not report.quarantined or allow_rejects:
        return
    raise DataError(
        f"{file}: {report.quarantined} row(s) quarantined (rows "
        f"{format_rows(report.rejects['row'].tolist())}); the {report.stored:,} valid rows "
        f"are stored and the rejected ones are in the quarantine table of {db_path}: fix "
        f"them and run the {what} again, or pass --allow-rejects to accept it as it is"
    )


def _print_history(versions: list[dict]) -> None:
    from rich.table import Table

    table = Table(title="Data versions", title_justify="left")
    for name in ("version", "kind", "file", "stored", "note", "sha256"):
        table.add_column(name, justify="right" if name in ("version", "stored") else "left")
    for v in versions:
        table.add_row(
            str(v["version"]), v["kind"], v["file"] or "-",
            f"{v['rows_stored']:,} of {v['rows_read']:,}", v["note"] or "", v["sha256"][:12],
        )
    _console().print(table)


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
    reference = result["municipality_reference"]
    if reference["loaded"]:
        unknown = reference["unknown_codes_in_store"]
        console.print(
            f"municipality reference: {reference['codes']:,} codes ({reference['current']:,} "
            "current)" + (f"; stored codes not in it: {', '.join(unknown)}" if unknown else "")
        )
    else:
        console.print(
            "municipality reference: none loaded (codes are checked by pattern only; import one "
            "with `evaluation data municipalities FILE`)"
        )
    version = result["data_version"]
    console.print(
        f"data version {version['number']} ({(version['sha256'] or '')[:12]}); "
        f"{result['corrections']:,} correction(s), {result['retractions']:,} retraction(s) "
        "(see `evaluation data history`)"
    )
