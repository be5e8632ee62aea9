"""CLI commands: diagnose (power, minimum detectable effect, false positives, coverage, and the
decision rule's error rates)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from evaluation import defaults
from evaluation.cli.context import CliContext, pass_ctx

DB_OPTION_HELP = "Incident database (default: $EVALUATION_DB, else data/evaluation.duckdb in the workspace)."


def summary_lines(diagnosis: dict[str, Any]) -> list[str]:
    """The diagnosis in a few plain lines (also used by `design check`)."""
    power = diagnosis["power_at_min_reduction"]
    fpr = diagnosis["false_positive_rate"]
    history = diagnosis["history"]
    mdr = diagnosis["minimum_detectable_text"]
    lines = [
        f"diagnosis of {diagnosis['id']} ({diagnosis['sims']} simulations on the history before the "
        f"start: {history['n_pre_periods']} pre + {history['n_post_periods']} placebo post periods)",
        f"  power to detect a {diagnosis['min_reduction']:.0%} reduction: {power['power']:.0%} "
        f"(Monte Carlo error {power['mcse']:.0%})",
        f"  minimum detectable reduction at {diagnosis['power_target']:.0%} power: {mdr}",
        f"  false-positive rate at no effect: {fpr['value']:.1%} (alpha {diagnosis['alpha']}, "
        f"Monte Carlo error {fpr['mcse']:.1%})",
    ]
    null = next(r for r in diagnosis["diagnosands"] if r["effect"] == 0)
    if null["coverage"] is not None and null["bias"] is not None:
        lines.append(f"  interval coverage at no effect: {null['coverage']:.1%} (Monte Carlo error "
                     f"{null['coverage_mcse']:.1%}); bias of the estimate: {null['bias']:+.3f}")
    failed = sum(diagnosis["failures"].values())
    if failed:
        top = max(diagnosis["failures"], key=diagnosis["failures"].get)
        lines.append(f"  {failed} simulated analyses could not be run (counted as not detected), "
                     f"mostly: {top}")
    warned = diagnosis.get("fit_warnings") or {}
    if warned:
        top = max(warned, key=warned.get)
        lines.append(f"  the simulated fits raised {sum(warned.values())} warning(s), mostly: "
                     f"{top} (counted in the diagnosis file under fit_warnings)")
    if not diagnosis["answerable"]:
        lines.append(f"  the design cannot answer its question: its minimum detectable reduction "
                     f"({mdr}) is larger than the {diagnosis['min_reduction']:.0%} it decides on. "
                     "What would help:")
        lines.extend(f"    - {s}" for s in diagnosis["suggestions"])
    return lines


def curve_lines(diagnosis: dict[str, Any]) -> list[str]:
    lines = ["  effect   power   (mcse)   bias     coverage"]
    for row in diagnosis["diagnosands"]:
        bias = "   -   " if row["bias"] is None else f"{row['bias']:+.3f}"
        cover = "  -  " if row["coverage"] is None else f"{row['coverage']:.0%}"
        lines.append(f"  {row['effect']:+6.0%}  {row['power']:5.0%}  ({row['power_mcse']:.0%})   "
                     f"{bias}   {cover}")
    return lines


SCENARIO_LABELS = {"no_effect": "no effect", "min_reduction": "{r:.0%} reduction (minimum)",
                   "expected": "{r:.0%} reduction (hoped for)"}
PROBLEM_TEXT = {
    "continue_at_no_effect": "continues a useless intervention",
    "adapt_at_no_effect": "says adapt for a useless intervention",
    "stop_at_min_reduction": "stops an intervention with the minimum reduction",
    "stop_at_expected": "stops an intervention with the hoped-for reduction",
    "continue_at_expected": "continues an intervention with the hoped-for reduction",
}


def rule_lines(diagnosis: dict[str, Any]) -> list[str]:
    """The decision rule's error rates, a calibrated analysis' beside them, and one warning line
    per rate worse than that reference (+ 2 Monte Carlo errors)."""
    oc = diagnosis.get("operating_characteristics")
    if not oc:
        return []
    lines = [f"  the rule's verdicts (basis: {oc['basis']}; share of {oc['sims']} simulations, "
             "Monte Carlo error; [calibrated analysis of the same precision]):",
             "    scenario                      continue        adapt           stop            "
             "inconclusive"]
    for row in oc["scenarios"]:
        name = SCENARIO_LABELS[row["scenario"]].format(r=row["reduction"])
        cells = []
        for verdict in ("continue", "adapt", "stop", "inconclusive"):
            ref = row["reference"]
            shown = f"{row['rates'][verdict]:.0%} ({row['mcse'][verdict]:.0%})"
            shown += f" [{ref[verdict]:.0%}]" if ref else ""
            cells.append(f"{shown:<15}")
        lines.append(f"    {name:<29} " + " ".join(cells).rstrip())
    size, coverage = oc["size"], oc["coverage"]
    cover = "-" if coverage["value"] is None else f"{coverage['value']:.1%} ({coverage['mcse']:.1%})"
    lines.append(f"  test size at alpha {size['reference']:g}: {size['value']:.1%} "
                 f"({size['mcse']:.1%}); interval coverage at no effect: {cover} "
                 f"[{coverage['reference']:.0%}]")
    if not oc["basis_simulated"]:
        lines.append("  warning: decision.basis is bayesian, but these are the primary analysis' "
                     "error rates: the Bayesian model is not simulated (a fit per data set)")
    lines.extend(f"  warning: {problem_text(p)}" for p in oc["problems"])
    return lines


def problem_text(problem: dict[str, Any]) -> str:
    """One line for a rate worse than a calibrated analysis would give."""
    code, value, ref = problem["code"], problem["value"], problem["reference"]
    if code == "size":
        what = "the test rejects a true null"
    elif code == "coverage":
        what = "the interval covers the truth"
    else:
        what = f"the rule {PROBLEM_TEXT[code]}"
    return (f"{what} in {value:.1%} of simulations; a calibrated analysis: {ref:.1%} "
            f"({'above' if problem['worse'] == 'higher' else 'below'} its limit "
            f"{problem['limit']:.1%} = reference {'+' if problem['worse'] == 'higher' else '-'} "
            "2 Monte Carlo errors)")


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""

    @cli.command("diagnose")
    @click.argument("file")
    @click.option("--sims", type=click.IntRange(min=2), default=defaults.DIAGNOSE_SIMS,
                  show_default=True, help="Simulated data sets per effect size.")
    @click.option("--effects", default=None, metavar="LIST",
                  help="Effects for the power curve, e.g. -5%,-10%,-20% "
                       f"(default {','.join(f'{e:.0%}' for e in defaults.DIAGNOSE_EFFECTS)}).")
    @click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
    @click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="all cores",
                  help="Local processes to simulate with (joblib).")
    @click.option("--scheduler", default=None, metavar="ADDRESS",
                  help="Run on a Dask cluster at ADDRESS (e.g. tcp://host:8786) instead of locally.")
    @click.option("--db", type=click.Path(dir_okay=False), help=DB_OPTION_HELP)
    @pass_ctx
    def diagnose_cmd(ctx: CliContext, file: str, sims: int, effects: str | None, as_json: bool,
                     workers: int, scheduler: str | None, db: str | None) -> None:
        """Can the design in FILE see the effect it decides on? Simulates on the history before the
        start: power at decision.min_reduction, the power curve, the minimum detectable reduction,
        the false-positive rate, bias and coverage, and how often the decision rule continues,
        adapts or stops at no effect, the minimum and the hoped-for reduction (a warning for each
        rate worse than a calibrated analysis). Saves designs/ID.diagnosis.json."""
        from evaluation.cli.context import design_file, shown
        from evaluation.design.model import load_design
        from evaluation.diagnose import diagnose, parse_effects, write_diagnosis

        if scheduler is not None and click.get_current_context().get_parameter_source("workers").name != "DEFAULT":
            raise click.UsageError("give --workers or --scheduler, not both")
        path, workspace = design_file(ctx, file)
        design = load_design(path)
        wanted = parse_effects(effects) if effects is not None else defaults.DIAGNOSE_EFFECTS
        diagnosis = diagnose(design, workspace=workspace, db=db, sims=sims, effects=wanted,
                             workers=workers, scheduler=scheduler)
        saved = write_diagnosis(diagnosis, workspace)
        if as_json:
            click.echo(json.dumps(diagnosis, indent=2, sort_keys=True, ensure_ascii=False))
            return
        for line in [*summary_lines(diagnosis), *curve_lines(diagnosis), *rule_lines(diagnosis)]:
            click.echo(line)
        click.echo(f"saved {shown(Path(saved))} (sha256 {diagnosis['sha256'][:12]}); "
                   f"`evaluation register` records it when the design is unchanged")
        used = diagnosis.get("data_used") or {}
        if used:
            click.echo(f"  data used: {used['first_period']} to {used['last_period']}, before the start "
                       f"(data cut-off {used['data_cutoff']}; history sha256 {used['data_sha256'][:12]})")
