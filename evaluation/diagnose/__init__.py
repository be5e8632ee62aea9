"""Design diagnosis before registration: can this design see the effect it decides on?

`diagnose(design, workspace=...)` uses only the intervention's history before its start: it
re-times the design inside that history (a placebo post period of the registered length, see
`simulate.placebo_history`), fits the null model there, simulates outcomes with and without known
effects, runs the registered primary analysis on each (`primary`), and summarises power, the
minimum detectable reduction, the false-positive rate, bias and coverage (`diagnosands`), and the
decision rule's operating characteristics: how often it continues, adapts, stops or stays
inconclusive at no effect, at the minimum and at the hoped-for reduction, against an exactly
calibrated analysis of the same precision (`operating`; every rate worse than that is a problem).

The diagnosis is a JSON-ready dict, deterministic for the design seed, saved as
designs/<id>.diagnosis.json with the design hash and a SHA-256 of its own content; `evaluation
register` records that hash when the diagnosis matches the design being registered.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from evaluation import defaults
from evaluation.design.diagnosis_file import (
    content_sha256,
    current_diagnosis,
    diagnosis_path,
    read_diagnosis,
    write_diagnosis,
)
from evaluation.design.its_limits import block_length, placebo_block_count, valid_lengths
from evaluation.design.model import Design, load_design
from evaluation.diagnose.diagnosands import minimum_detectable_reduction, summarise_effect
from evaluation.diagnose.operating import operating_characteristics
from evaluation.diagnose.phase import registered_phase, registered_post_length
from evaluation.diagnose.runner import SimulationTask, run_simulations
from evaluation.errors import DesignError, EvaluationError
from evaluation.estimators.core import PrimaryAnalysis
from evaluation.estimators.did import choose_inference
from evaluation.estimators.did.staggered import resolve_estimator
from evaluation.estimators.prepared import PreparedData
from evaluation.files import clean, frame_sha256
from evaluation.simulation.model import PanelModel
from evaluation.simulation.null_model import Placebo, fit_null_model, placebo_history
from evaluation.workspace import Workspace

__all__ = ["diagnose", "diagnose_prepared", "diagnosis_path", "current_diagnosis",
           "read_diagnosis", "write_diagnosis", "content_sha256", "parse_effects"]
COVERAGE_METHODS = {
    "randomization": "randomization test of the sharp null at the true effect does not reject "
                     "(one null fit; equals 'the test-inversion interval contains the truth')",
    "wald": "the registered Wald interval contains the true effect",
}


def diagnose(design: Design | str | os.PathLike, *, workspace: Workspace,
             db: str | os.PathLike | None = None, sims: int = defaults.DIAGNOSE_SIMS,
             effects: Sequence[float] = defaults.DIAGNOSE_EFFECTS, workers: int = 1,
             scheduler: str | None = None) -> dict[str, Any]:
    """Diagnose a design file (or Design) on its workspace's data before its start.

    Works before the start: the data may end before the start date and the window may reach into
    the future (`prepare(mode="diagnosis")`). The diagnosis records the data it used (`data_used`:
    the hash of the history, the source's cut-off, the hash of the pre-period rows as a
    registration records it) and the units kept out of the controls."""
    from evaluation.analysis.prepare import prepare, source_panel
    from evaluation.analysis.run import history_facts, units_treated_elsewhere

    design = load_design(design)
    source = source_panel(design, workspace, db=db)
    excluded = units_treated_elsewhere(design, workspace)
    data = prepare(design, workspace, source=source, mode="diagnosis", exclude_units=excluded)
    diagnosis = diagnose_prepared(data, sims=sims, effects=effects, workers=workers,
                                  scheduler=scheduler)
    diagnosis["data_used"] = history_facts(design, source, data, excluded=excluded)
    diagnosis["sha256"] = content_sha256(diagnosis)
    return diagnosis


def diagnose_prepared(data: PreparedData, *, sims: int = defaults.DIAGNOSE_SIMS,
                      effects: Sequence[float] = defaults.DIAGNOSE_EFFECTS, workers: int = 1,
                      scheduler: str | None = None) -> dict[str, Any]:
    """The diagnosis of prepared data (only its rows before the first start are used)."""
    if sims < 2:
        raise EvaluationError(f"--sims: {sims} is too few; give at least 2 (default {defaults.DIAGNOSE_SIMS})")
    design = data.design
    spec = design.analysis
    placebo = placebo_history(data)
    null = fit_null_model(placebo)
    wanted = parse_effects(effects)
    rule = design.decision
    all_effects = tuple(sorted({0.0, *wanted, -rule.min_reduction, -rule.expected_reduction}))
    phased = registered_phase(data, placebo)  # treatment.end: the phase the verdict concerns
    analysed = None if phased is placebo.data else \
        null.treated_post & phased.panel["post"].to_numpy() & ~phased.panel["excluded"].to_numpy()
    truths = tuple(true_effect(placebo, null, effect, analysed=analysed) for effect in all_effects)
    analysis = PrimaryAnalysis(phased)
    task = SimulationTask(analysis=analysis, null=null, effects=all_effects, truths=truths)
    values, errors, warned = run_simulations(task, sims=sims, seed=spec.seed, workers=workers,
                                     scheduler=scheduler)

    rows = [summarise_effect(values[:, j], effect=e, truth=truths[j], alpha=spec.alpha)
            for j, e in enumerate(all_effects)]
    target = defaults.DIAGNOSE_POWER_TARGET
    curve = [r for r in rows if r["effect"] <= 0]
    mdr = minimum_detectable_reduction(curve, target=target)
    at_min = next(r for r in rows if r["effect"] == -design.decision.min_reduction)
    null_row = next(r for r in rows if r["effect"] == 0.0)
    largest = max(-e for e in all_effects)
    answerable = mdr is not None and mdr <= design.decision.min_reduction
    operating = operating_characteristics(
        values=values, rows=rows, effects=all_effects, rule=rule, alpha=spec.alpha,
        threshold_min=true_effect(placebo, null, -rule.min_reduction, analysed=analysed))
    diagnosis = {
        "id": design.id,
        "design_sha256": design.sha256,
        "history_sha256": frame_sha256(placebo.data.panel),
        "kind": "design diagnosis (simulation on the history before the start)",
        "seed": spec.seed, "sims": sims, "alpha": spec.alpha, "power_target": target,
        "min_reduction": design.decision.min_reduction,
        "history": _history(data, placebo, phased=phased is not placebo.data),
        "null_model": null.describe(),
        "primary": _primary_description(placebo.data, fast=analysis.fast is not None),
        "diagnosands": rows,
        "power_at_min_reduction": {"power": at_min["power"], "mcse": at_min["power_mcse"]},
        "false_positive_rate": {"value": null_row["false_positive_rate"],
                                "mcse": null_row["false_positive_mcse"]},
        "operating_characteristics": operating,
        "minimum_detectable_reduction": mdr,
        "minimum_detectable_text": (f"{mdr:.0%}" if mdr is not None
                                    else f"above {largest:.0%}"),
        "answerable": answerable,
        "suggestions": [] if answerable else suggestions(data, placebo),
        "failures": errors,
    }
    if warned:  # only where a fit warned (a clean diagnosis keeps its bytes)
        diagnosis["fit_warnings"] = warned
    if design.design == "its":
        n_post = registered_post_length(data, default=placebo.n_post_registered)
        diagnosis["its_limits"] = its_limits(n_pre=len(placebo.data.periods), n_post=n_post,
                                             mdr=mdr)
        if diagnosis["its_limits"]["code"]:
            diagnosis["answerable"] = False
            diagnosis["suggestions"] = [its_limits_suggestion(diagnosis["its_limits"]),
                                        *diagnosis["suggestions"]]
    diagnosis = clean(diagnosis)
    diagnosis["sha256"] = content_sha256(diagnosis)
    return diagnosis


def parse_effects(effects: Sequence[float] | str) -> tuple[float, ...]:
    """Effects as fractions (-0.1 = 10% fewer); a string like "-5%,-10%" or "-0.05,-0.1" too."""
    if isinstance(effects, str):
        items = [part.strip() for part in effects.split(",") if part.strip()]
        values = []
        for item in items:
            try:
                values.append(float(item[:-1]) / 100 if item.endswith("%") else float(item))
            except ValueError:
                raise EvaluationError(f"--effects: `{item}` is not a number; give e.g. -5%,-10%,-20% "
                                      "or -0.05,-0.1,-0.2") from None
        effects = values
    out = tuple(float(e) for e in effects)
    bad = [e for e in out if not (math.isfinite(e) and -1 < e <= 1)]
    if not out or bad:
        raise EvaluationError(f"--effects: {', '.join(map(str, bad)) or 'none given'}: each effect is a "
                              "change between -100% and +100% (exclusive of -100%), e.g. -10%")
    return out


def true_effect(placebo: Placebo, null: PanelModel, effect: float, *,
                analysed: np.ndarray | None = None) -> float:
    """The estimand the primary analysis targets when the means are multiplied by 1 + effect
    (`analysed`: the treated rows of the registered phase, when treatment.end splits the post
    period; by default all placebo post rows)."""
    if null.count:
        return math.log1p(effect)
    # linear: the average added difference per treated post cell (did) or per period of the
    # treated series, on the modelled scale (rate per exposure when the ITS has an exposure)
    data = placebo.data
    rows = null.treated_post if analysed is None else analysed
    added = null.mu * effect * null.treated_post
    if data.design.design == "did":
        return float(np.mean(added[rows]))
    panel = data.panel
    post = panel.loc[rows]
    per_period = np.bincount(post["t"].to_numpy(), weights=added[rows])
    if data.has_exposure:
        exposure = np.bincount(post["t"].to_numpy(), weights=post["exposure"].to_numpy())
        per_period = np.divide(per_period, exposure, out=np.zeros_like(per_period), where=exposure > 0)
    periods = np.unique(post["t"].to_numpy())
    return float(np.mean(per_period[periods]))


def _history(data: PreparedData, placebo: Placebo, *, phased: bool) -> dict[str, Any]:
    labels = placebo.data.periods
    start = min(placebo.cohorts.values())
    # only where treatment.end splits the post period (other diagnoses stay byte-identical)
    phase = {"phase": data.spec.estimand} if phased else {}
    return {**phase,
        "periods_used": len(labels), "first_period": labels[0], "last_period": labels[-1],
        "placebo_start": labels[start], "n_pre_periods": start,
        "n_post_periods": placebo.n_post, "n_post_registered": placebo.n_post_registered,
        "n_treated": len(data.treated_units), "n_control": len(data.control_units),
        "note": ("outcomes on or after treatment.start are never used; the last periods before "
                 "it serve as a placebo post period of (at most) the registered length"),
    }


def _primary_description(data: PreparedData, *, fast: bool) -> dict[str, Any]:
    spec = data.spec
    if data.design.design == "its":
        inference = "placebo_blocks" if spec.inference == "auto" else spec.inference
        estimator = "segmented regression"
    else:
        try:
            inference = choose_inference(data)[0]
            estimator = resolve_estimator(data)[0]
        except EvaluationError as exc:
            raise DesignError(f"analysis: {exc}") from None
    coverage = COVERAGE_METHODS["randomization" if inference == "randomization" else "wald"]
    return {"design": data.design.design, "model": spec.model, "estimator": estimator,
            "inference": inference, "randomization_draws": spec.randomization_draws,
            "checks": "not run (the primary estimate and its inference only)",
            "implementation": ("numpy iterative-scaling TWFE + vectorised permutation scores "
                               "(held equal to the general path by the tests)" if fast
                               else "the analysis' own primary fit (estimators.core)"),
            "coverage": coverage}


def its_limits(*, n_pre: int, n_post: int, mdr: float | None) -> dict[str, Any]:
    """An ITS design's honest limits: can the placebo-block inference hold its level with this
    many periods before and after the start (`design.its_limits`), and the smallest reduction
    the simulations detect with the target power under the history's own dependence."""
    valid = valid_lengths(n_pre, n_post)
    return {"code": None if valid else "series_too_short", "n_pre_periods": n_pre,
            "n_post_periods": n_post, "placebo_blocks": placebo_block_count(n_pre, n_post),
            "block_length": block_length(n_pre, n_post),
            "minimum_detectable_reduction": mdr}


def its_limits_suggestion(limits: dict[str, Any]) -> str:
    return (f"the series is too short for valid inference: {limits['n_pre_periods']} periods "
            f"before the start hold {limits['placebo_blocks']} block(s) of "
            f"{limits['block_length']} for {limits['n_post_periods']} after; move window.start "
            "earlier or end the window sooner (the verdict would be inconclusive)")


def suggestions(data: PreparedData, placebo: Placebo) -> list[str]:
    """Plain changes that would make a weak design stronger, for `design check`."""
    design = data.design
    out = [f"more units: {len(data.treated_units)} treated unit(s); power grows with the number "
           "of treated units (and, for did, with comparable control units)",
           f"a longer window: {placebo.n_post_registered} post period(s) registered; more post "
           "periods (window.end later) or a coarser frequency gather more events per estimate"]
    spec = design.data
    if spec.from_store and (len(spec.target_types) < len(defaults.TARGET_TYPES)
                            or len(spec.outcomes) < len(defaults.OUTCOMES)):
        out.append("pooling target types: count all data.target_types "
                   f"({', '.join(defaults.TARGET_TYPES)}) and outcomes "
                   f"({', '.join(defaults.OUTCOMES)}) to have more events")
    else:
        out.append("pooling target types or outcomes (more events per unit) where the data allow it")
    if design.design == "did":
        from evaluation.estimators.did.randomization import count_assignments

        n_units = len(data.treated_units) + len(data.control_units)
        cohorts = list(placebo.cohorts.values())
        sizes = [cohorts.count(c) for c in sorted(set(cohorts))]
        possible = count_assignments(n_units, sizes)
        if possible <= defaults.RI_EXACT_MAX and 1 / possible >= design.analysis.alpha:
            out.insert(0, f"with {n_units} units the randomization test has only {possible} "
                          f"assignments, so its p-value can never fall below "
                          f"{design.analysis.alpha}: add control units")
    return out
