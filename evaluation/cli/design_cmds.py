"""CLI commands: design new / design check, register, amend, registry verify / repair, status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from evaluation import registry
from evaluation.cli.context import CliContext, design_file, pass_ctx, shown
from evaluation.data.periods import period_json
from evaluation.design.checks import check_design_against_data
from evaluation.design.model import Design, load_design, read_yaml, validation_messages
from evaluation.design.template import design_template
from evaluation.errors import DesignError, RegistryError, format_rows
from evaluation.registry.ledger import read_entries
from evaluation.workspace import Workspace

DB_OPTION_HELP = "Incident database (default: $EVALUATION_DB, else data/evaluation.duckdb in the workspace)."


def _source_panel(design: Design, workspace: Workspace, db: str | None) -> Any:
    # Imported late: the data layer pulls in duckdb and pandas, which `--help` does not need.
    from evaluation.analysis.prepare import source_panel

    return source_panel(design, workspace, db=db)


def _in_workspace(design: Design, path: Path, workspace: Workspace) -> None:
    """The ledger checks designs/<id>.yaml, so only that file can be registered."""
    expected = workspace.design_path(design.id)
    if path.resolve() != expected.resolve():
        raise RegistryError(
            f"{path}: only designs in the workspace's designs/ folder can be registered; "
            f"move it to {expected}"
        )


def _refuse_unchecked(design: Design, path: Path, source: Any) -> None:
    """A design that fails `design check` is never frozen: it could not be analysed as registered."""
    errors = [p for p in check_design_against_data(design, source.frame, cutoff=source.cutoff)
              if p.level == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RegistryError(f"{shown(path)}: not registered: {errors[0].field}: {errors[0].message}{more}; "
                            f"see `evaluation design check {shown(path)}`")


def _diagnosis_for(design: Design, workspace: Workspace, path: Path) -> tuple[dict[str, Any] | None, str]:
    """The saved diagnosis made for exactly this design, or None and a note saying why not."""
    from evaluation.diagnose import current_diagnosis, diagnosis_path, read_diagnosis

    diagnosis = current_diagnosis(workspace, design)
    if diagnosis is not None:
        return diagnosis, ""
    saved = diagnosis_path(workspace, design.id)
    if not saved.exists():
        why = "no diagnosis yet"
    elif read_diagnosis(workspace, design.id) is None:
        why = f"{shown(saved)} is damaged or was edited (its sha256 does not match)"
    else:
        why = f"{shown(saved)} was made for another version of the design"
    return None, (f"note: {why}; run `evaluation diagnose {shown(path)}` to see whether the design "
                  f"can detect a {design.decision.min_reduction:.0%} reduction")


def _hook_values(diagnosis: dict[str, Any] | None) -> dict[str, Any] | None:
    # design_checks' hook warns when the minimum detectable reduction exceeds min_reduction;
    # "never reached on the curve" is reported by _diagnosis_problems instead.
    if diagnosis is None or diagnosis.get("minimum_detectable_reduction") is None:
        return None
    return {"minimum_detectable_reduction": diagnosis["minimum_detectable_reduction"]}


def _diagnosis_problems(design: Design, diagnosis: dict[str, Any] | None) -> list[Any]:
    from evaluation.design.checks import Problem

    if diagnosis is None or diagnosis.get("minimum_detectable_reduction") is not None:
        return []
    return [Problem("warning", "decision.min_reduction",
                    f"the design cannot reach {diagnosis['power_target']:.0%} power even for the "
                    f"largest reduction simulated (minimum detectable reduction "
                    f"{diagnosis['minimum_detectable_text']}); it cannot detect the "
                    f"{design.decision.min_reduction:.0%} it decides on")]


def _ready_for_ledger(ctx: CliContext, file: str, db: str | None):
    """Validate fully before the ledger is touched (a broken or failing design never reaches it):
    (design, workspace, source panel, matching diagnosis or None, note on the diagnosis)."""
    path, workspace = design_file(ctx, file)
    design = load_design(path)
    _in_workspace(design, path, workspace)
    source = _source_panel(design, workspace, db)
    _refuse_unchecked(design, path, source)
    diagnosis, note = _diagnosis_for(design, workspace, path)
    return design, workspace, source, diagnosis, note


def _diagnosis_lines(entry: dict[str, Any], diagnosis: dict[str, Any] | None, note: str) -> list[str]:
    """What `register` and `amend` say about the diagnosis the entry carries."""
    if diagnosis is None:
        return [f"  no diagnosis attached: {note.removeprefix('note: ')}"]
    lines = [f"  diagnosis attached: {diagnosis['sha256'][:12]} (minimum detectable reduction "
             f"{diagnosis['minimum_detectable_text']})"]
    used = diagnosis.get("data_used") or {}
    if used.get("pre_period_sha256") not in (None, entry.get("pre_period_sha256")):
        lines.append("  note: the diagnosis was made on other data before the start than this entry "
                     f"records (pre-period hash {used['pre_period_sha256'][:12]} vs "
                     f"{entry['pre_period_sha256'][:12]}); run `evaluation diagnose` again and attach "
                     "it with `evaluation amend`")
    frozen = sorted({u for units in (entry.get("treated_elsewhere") or {}).values() for u in units})
    if entry.get("kind") == "registration" and "units_treated_elsewhere" in used \
            and sorted(used["units_treated_elsewhere"]) != frozen:
        lines.append("  note: the diagnosis kept other units out of the controls than the frozen pool "
                     f"({len(used['units_treated_elsewhere'])} vs {len(frozen)}: a design was registered "
                     "in between); run `evaluation diagnose` again and attach it with `evaluation amend`")
    return lines


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""

    @cli.group("design")
    def design_group() -> None:
        """Write and check design files (designs/ID.yaml)."""

    @design_group.command("new")
    @click.argument("design_id", metavar="ID")
    @click.option("--design", "kind", type=click.Choice(["did", "its"]), required=True,
                  help="did: difference-in-differences; its: interrupted time series.")
    @pass_ctx
    def design_new(ctx: CliContext, design_id: str, kind: str) -> None:
        """Write a commented template to designs/ID.yaml (never overwrites)."""
        workspace = ctx.workspace()
        text = design_template(design_id, kind=kind)
        path = workspace.design_path(design_id)
        try:
            with open(path, "x", encoding="utf-8") as handle:  # "x": refuse to overwrite, atomically
                handle.write(text)
        except FileExistsError:
            raise DesignError(f"{shown(path)}: already exists; edit it, or choose another ID") from None
        click.echo(f"wrote {shown(path)}: fill in the TODOs, then run `evaluation design check {shown(path)}`")

    @design_group.command("check")
    @click.argument("file")
    @click.option("--db", type=click.Path(dir_okay=False), help=DB_OPTION_HELP)
    @pass_ctx
    def design_check(ctx: CliContext, file: str, db: str | None) -> None:
        """Validate FILE and check it against the data (units, controls, pre-periods, dates, exposure).

        Prints one line per problem, field path first; exits 1 on any error.
        """
        path, workspace = design_file(ctx, file)
        data = read_yaml(path)
        if not isinstance(data, dict):
            raise DesignError(f"{path}: a design file must be a YAML mapping of fields")
        try:
            design = Design.model_validate(data)
        except ValidationError as exc:
            messages = validation_messages(exc)
            for message in messages:
                click.echo(f"error: {message}")
            raise DesignError(f"{path}: {len(messages)} error(s), see above") from None
        design = load_design(path)  # also checks that the id equals the file name
        source = _source_panel(design, workspace, db)
        diagnosis, note = _diagnosis_for(design, workspace, path)
        problems = check_design_against_data(design, source.frame, cutoff=source.cutoff,
                                             diagnosis=_hook_values(diagnosis))
        overlaps = registry.overlap_problems(design, read_entries(workspace.registry))
        problems = sorted([*problems, *_diagnosis_problems(design, diagnosis), *overlaps],
                          key=lambda p: p.level != "error")
        for problem in problems:
            click.echo(str(problem))
            if problem.field == "decision.min_reduction" and diagnosis is not None:
                # what would make the design able to answer its question
                for suggestion in diagnosis.get("suggestions", []):
                    click.echo(f"  - {suggestion}")
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise DesignError(f"{path}: {len(errors)} error(s), see above; fix them before registering")
        warnings = len(problems) - len(errors)
        click.echo(f"design OK: {design.id} (hash {design.sha256[:12]}, data to {period_json(source.cutoff)}"
                   f"{f', {warnings} warning(s)' if warnings else ''}); register it with "
                   f"`evaluation register {shown(path)} --by NAME`")
        if note:
            click.echo(note)

    @cli.command("register")
    @click.argument("file")
    @click.option("--by", "by", required=True, help="Who registers (name or role); recorded in the ledger.")
    @click.option("--db", type=click.Path(dir_okay=False), help=DB_OPTION_HELP)
    @pass_ctx
    def register_cmd(ctx: CliContext, file: str, by: str, db: str | None) -> None:
        """Freeze FILE: append its hash, the data cut-off, the diagnosis made for exactly this design
        (when there is one) and the units other registered designs treat to designs/registry.jsonl."""
        design, workspace, source, diagnosis, note = _ready_for_ledger(ctx, file, db)
        entry = registry.register(design, workspace=workspace, by=by, source=source,
                                  diagnosis_sha256=diagnosis["sha256"] if diagnosis else None)
        click.echo(_entry_line(entry))
        for line in _diagnosis_lines(entry, diagnosis, note):
            click.echo(line)
        excluded = sorted({u for units in entry["treated_elsewhere"].values() for u in units})
        if excluded:
            click.echo(f"  control pool frozen: {len(excluded)} unit(s) treated by "
                       f"{len(entry['treated_elsewhere'])} other registered design(s) are no controls")

    @cli.command("amend")
    @click.argument("file")
    @click.option("--reason", required=True, help="Why the design changed; recorded in the ledger.")
    @click.option("--by", "by", required=True, help="Who amends (name or role).")
    @click.option("--db", type=click.Path(dir_okay=False), help=DB_OPTION_HELP)
    @pass_ctx
    def amend_cmd(ctx: CliContext, file: str, reason: str, by: str, db: str | None) -> None:
        """Record a change to a registered design FILE (new hash, field-level diff, reason), or attach
        or replace its diagnosis (run `evaluation diagnose FILE` first): both go to the deviation log."""
        design, workspace, source, diagnosis, note = _ready_for_ledger(ctx, file, db)
        entry = registry.amend(design, workspace=workspace, by=by, reason=reason, source=source,
                               diagnosis_sha256=diagnosis["sha256"] if diagnosis else None)
        click.echo(_entry_line(entry))
        for change in entry["diff"]:
            click.echo(f"  {change['field']}: {json.dumps(change['old'])} -> {json.dumps(change['new'])}")
        before, after = entry.get("previous_diagnosis_sha256"), entry.get("diagnosis_sha256")
        if before != after:
            click.echo(f"  diagnosis: {str(before)[:12] if before else 'none'} -> "
                       f"{str(after)[:12] if after else 'none'}")
        for line in _diagnosis_lines(entry, diagnosis, note)[1:] if diagnosis else []:
            click.echo(line)

    @cli.group("registry")
    def registry_group() -> None:
        """Check or repair the registration ledger designs/registry.jsonl."""

    @registry_group.command("verify")
    @click.option("--expect-head", "expect_head", metavar="HASH",
                  help="The ledger head printed in the committee's papers (at least 12 hex digits); "
                       "it must be an entry of the ledger.")
    @pass_ctx
    def registry_verify(ctx: CliContext, expect_head: str | None) -> None:
        """Check the hash chain, that each design file matches its latest registration, the ledger
        heads recorded by results and rendered reports, --expect-head, and (in a git repository)
        that designs/registry.jsonl only ever grew across its committed versions."""
        result = registry.verify(ctx.workspace(), expect_head=expect_head)
        for problem in result.problems:
            click.echo(f"error: {problem}")
        for note in result.notes:
            click.echo(f"note: {note}")
        if not result.ok:
            raise RegistryError(f"registry verification failed: {len(result.problems)} problem(s), see above")
        click.echo(f"registry OK: {result.n_entries} entries, {result.n_designs} designs; head {result.head}")

    @registry_group.command("repair")
    @click.option("--by", "by", required=True, help="Who repairs (name or role); recorded in the ledger.")
    @pass_ctx
    def registry_repair(ctx: CliContext, by: str) -> None:
        """Remove a last ledger line left incomplete by a crash and log the repair as an entry
        (nothing else is ever changed)."""
        note = registry.repair(ctx.workspace(), by=by)
        click.echo(note or "nothing to repair: the last line is complete")

    @cli.command("status")
    @click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
    @pass_ctx
    def status_cmd(ctx: CliContext, as_json: bool) -> None:
        """Every design and registered id: registered, amended, retrospective, modified, missing or
        draft (not registered: it changes nothing for registered designs), with when it was
        registered (prospective, before outcome data, retrospective), its diagnosis and any
        deviation from its frozen control pool."""
        rows = registry.workspace_status(ctx.workspace())
        if as_json:
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        if not rows:
            click.echo("no designs yet: start one with `evaluation design new ID --design did|its`")
            return
        width = max(len(r["id"]) for r in rows)
        for row in rows:
            click.echo(f"{row['id']:<{width}}  {row['status']:<13}  {_status_detail(row)}")


def _entry_line(entry: dict[str, Any]) -> str:
    timing = entry.get("timing")
    said = registry.TIMING_TEXT.get(timing, "")
    if timing == "retrospective":
        said += f" (cut-off {entry['data_cutoff']})"
    else:
        said += f"; data cut-off {entry['data_cutoff']}"
    return (f"{entry['kind']} {entry['seq']}: {entry['id']} {entry['design_sha256'][:12]} by "
            f"{entry['registrant']} at {entry['timestamp']}; {said}")


def _status_detail(row: dict[str, Any]) -> str:
    if row["registered_sha256"] is None:
        return row["problem"] or ("not registered; changes nothing for registered designs: "
                                  "`evaluation register FILE --by NAME`")
    parts = [f"{row['registered_sha256'][:12]}", f"registered {row['registered_at']} by {row['registered_by']}"]
    if row["timing"]:
        parts.append(row["timing"].replace("_", " ") + (f" (data to {row['data_cutoff']})"
                                                        if row["timing"] == "retrospective" else ""))
    parts.append(f"diagnosis {row['diagnosis_sha256'][:12]}" if row["diagnosis_sha256"] else "no diagnosis")
    if row["amendments"]:
        parts.append(f"{row['amendments']} amendment(s), last {row['last_change']}")
    if row["deviations"]:
        parts.append(f"{len(row['deviations'])} control pool deviation(s): {format_rows(row['deviations'], 3)} "
                     "treated by later registrations")
    if row["status"] == "modified-since-registration":
        parts.append(row["problem"] or f"file hash {str(row['design_sha256'])[:12]} differs: `evaluation amend`")
    if row["status"] == "missing":
        parts.append("design file deleted")
    return "; ".join(parts)
