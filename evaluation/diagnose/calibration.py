"""Calibration of DiD inference under persistent local shocks and unequal unit sizes.

One grid cell is a synthetic programme (`simulation.synthetic`, the one simulation model): unit
sizes (lognormal spread), overdispersion, persistent AR(1) unit deviations, 1 to 10 treated
units chosen as the largest, at random or on a recent spike. Per cell, simulated data sets at no
effect and at the registered minimum reduction are analysed by the primary analysis
(`estimators.core.PrimaryAnalysis`: the randomization path) and the cell reports, each with its
binomial Monte Carlo error sqrt(p (1 - p) / n):

- size: share of p <= alpha at no effect (nominal alpha);
- coverage: share of the (1 - alpha) interval covering the truth at the minimum reduction
  (nominal 1 - alpha);
- calibration of the rule's one-sided quantity P(RR <= 1 - min_reduction), read at the truth
  RR = 1 - min_reduction: it must then be uniform, so the share >= continue_probability is
  nominally 1 - continue_probability (the rule's false continue at the boundary);
- the rule's false continue at no effect and false stop at the minimum reduction, against the
  exactly calibrated reference of the same precision (`diagnose.operating.calibrated_rates`).

A cell is `within` when size and coverage are within 2 Monte Carlo errors of nominal (the error
at the nominal or at the simulated rate, whichever is larger, as `diagnose.operating`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from evaluation.design.decision_rule import DecisionSpec
from evaluation.diagnose.operating import calibrated_rates, rates, simulated_verdicts
from evaluation.errors import EvaluationError
from evaluation.estimators.core import PrimaryAnalysis
from evaluation.estimators.did import recent_rise
from evaluation.simulation.synthetic import SimulationConfig, simulate

MCSE_LIMIT = 2.0


@dataclass(frozen=True)
class Cell:
    """One grid cell: the simulation's knobs that the calibration varies."""

    persistence: str  # none | moderate | strong
    n_treated: int
    size_spread: float  # lognormal sigma of unit populations
    treated: str  # largest | random | spike


PERSISTENCE = {"none": (0.0, 0.0), "moderate": (0.8, 0.3), "strong": (0.95, 0.5)}


def config_of(cell: Cell, *, n_units: int = 100, n_periods: int = 104, start: int = 78,
              draws: int = 200) -> SimulationConfig:
    rho, sd = PERSISTENCE[cell.persistence]
    return SimulationConfig(
        n_units=n_units, n_periods=n_periods, n_treated=cell.n_treated, start=start,
        events_per_period=30.0, population_sd=cell.size_spread, dispersion=0.3,
        persistence=rho, deviation_sd=sd, treated=cell.treated,  # type: ignore[arg-type]
        analysis={"model": "quasi_poisson", "inference": "randomization",
                  "randomization_draws": draws})


def _binomial(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 0.0) / n) if n else math.nan


def _within(value: float, nominal: float, n: int, worse: str) -> bool:
    mcse = math.sqrt(max(nominal * (1 - nominal), value * (1 - value)) / n)
    return value <= nominal + MCSE_LIMIT * mcse if worse == "higher" else \
        value >= nominal - MCSE_LIMIT * mcse


def _outcomes(cell: Cell, *, rate_ratio: float, n_sims: int, seed: int, rise_check: bool,
              **sizes: int) -> np.ndarray:
    """Rows: estimate, p-value, covered, failed, conf_any, conf_min, recent-rise check failed
    (NaN when not run)."""
    rng = np.random.default_rng(seed)
    config = config_of(cell, **sizes)
    rows = []
    for _ in range(n_sims):
        data = simulate(rng, config, rate_ratio=rate_ratio)
        out = PrimaryAnalysis(data).outcome(data.panel["y"].to_numpy(),
                                            truth=math.log(rate_ratio))
        rise = _rise_failed(data) if rise_check else math.nan
        rows.append((out.estimate, out.p_value, float(out.covered), float(out.error is not None),
                     out.conf_any, out.conf_min, rise))
    return np.array(rows, dtype=float)


def _rise_failed(data: Any) -> float:
    """1 when the blocking recent-rise check fails; 0 when it passes, is skipped or the data
    cannot be analysed at all (then the primary analysis has failed too, and withholds)."""
    try:
        return float(recent_rise(data).status == "fail")
    except EvaluationError:
        return 0.0


def calibrate_cell(cell: Cell, *, n_sims: int, seed: int, rule: DecisionSpec | None = None,
                   alpha: float = 0.05, rise_check: bool = False,
                   **sizes: int) -> dict[str, Any]:
    """The cell's size, coverage, calibration and the rule's error rates (module docstring);
    with `rise_check`, also how often the blocking recent-rise check fails and the rule's error
    rates when it blocks (`did.recent_rise`)."""
    rule = rule or DecisionSpec()
    truth_min = math.log(1.0 - rule.min_reduction)
    null = _outcomes(cell, rate_ratio=1.0, n_sims=n_sims, seed=seed, rise_check=rise_check,
                     **sizes)
    at_min = _outcomes(cell, rate_ratio=1.0 - rule.min_reduction, n_sims=n_sims,
                       seed=seed + 1, rise_check=rise_check, **sizes)
    ok_null, ok_min = null[null[:, 3] == 0], at_min[at_min[:, 3] == 0]
    n0, n1 = len(ok_null), len(ok_min)
    size = float(np.mean(ok_null[:, 1] <= alpha)) if n0 else math.nan
    coverage = float(np.mean(ok_min[:, 2] > 0)) if n1 else math.nan
    calib = float(np.mean(ok_min[:, 5] >= rule.continue_probability)) if n1 else math.nan
    out: dict[str, Any] = {**asdict(cell), "n_sims": n_sims, "failed": int(2 * n_sims - n0 - n1),
                           "size": size, "size_mcse": _binomial(size, n0),
                           "coverage": coverage, "coverage_mcse": _binomial(coverage, n1),
                           "conf_min_at_truth_ge_continue": calib,
                           "conf_min_at_truth_mcse": _binomial(calib, n1),
                           "conf_min_nominal": 1.0 - rule.continue_probability}
    for name, values, truth, verdict in (("false_continue_at_no_effect", null, 0.0, "continue"),
                                         ("false_stop_at_min", at_min, truth_min, "stop")):
        share, mcse = rates(simulated_verdicts(values[:, 4], values[:, 5], values[:, 3] > 0,
                                               rule=rule))
        finite = values[np.isfinite(values[:, 0]), 0]
        sd = float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan
        ref = calibrated_rates(truth=truth, sd=sd, threshold_min=truth_min, rule=rule)
        out[name] = share[verdict]
        out[f"{name}_mcse"] = mcse[verdict]
        out[f"{name}_reference"] = None if ref is None else ref[verdict]
        if rise_check:  # a failed blocking check withholds the verdict, like a failed analysis
            blocked = (values[:, 3] > 0) | (values[:, 6] > 0)
            share, mcse = rates(simulated_verdicts(values[:, 4], values[:, 5], blocked, rule=rule))
            out[f"{name}_with_check"] = share[verdict]
            out[f"{name}_with_check_mcse"] = mcse[verdict]
    if rise_check:
        for name, values in (("recent_rise_fails_at_no_effect", null),
                             ("recent_rise_fails_at_min", at_min)):
            share = float(np.mean(values[:, 6]))
            out[name], out[f"{name}_mcse"] = share, _binomial(share, len(values))
    out["within"] = bool(n0 and n1 and _within(size, alpha, n0, "higher")
                         and _within(size, alpha, n0, "lower")
                         and _within(coverage, 1 - alpha, n1, "lower")
                         and _within(coverage, 1 - alpha, n1, "higher"))
    return out


def grid(reduced: bool = False) -> list[Cell]:
    """The study's grid: every factor around a base cell (largest, 3 treated, strong persistence,
    size spread 1), plus the crossing of persistence with the treated units' selection."""
    base = Cell(persistence="strong", n_treated=3, size_spread=1.0, treated="largest")
    if reduced:
        return [base, replace(base, n_treated=1), replace(base, treated="spike")]
    cells = [replace(base, treated=s) for s in ("largest", "random", "spike")]
    cells += [replace(base, n_treated=k) for k in (1, 6, 10)]
    cells += [replace(base, size_spread=s) for s in (0.5, 1.5)]
    cells += [replace(base, persistence=p, treated=s) for p in ("moderate", "none")
              for s in ("largest", "random", "spike")]
    return cells


def _verdict(row: dict[str, Any], alpha: float = 0.05) -> str:
    """yes; no (conservative): size below and coverage above nominal; **no** otherwise."""
    if row["within"]:
        return "yes"
    conservative = row["size"] <= alpha and row["coverage"] >= 1 - alpha
    return "no (conservative)" if conservative else "**no**"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The docs table: one line per cell, each rate with its Monte Carlo error."""

    def pm(value: float, err: float) -> str:
        return "n/a" if not math.isfinite(value) else f"{100 * value:.1f} ± {100 * err:.1f}"

    def ref(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}"

    head = ("| persistence | treated | selection | size spread | size % (5) | coverage % (95) "
            "| conf. ≥ continue at truth % (nominal) | false continue at 0 % (ref.) "
            "| false stop at min % (ref.) | within MC error |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        lines.append(
            f"| {r['persistence']} | {r['n_treated']} | {r['treated']} | {r['size_spread']} "
            f"| {pm(r['size'], r['size_mcse'])} | {pm(r['coverage'], r['coverage_mcse'])} "
            f"| {pm(r['conf_min_at_truth_ge_continue'], r['conf_min_at_truth_mcse'])} "
            f"({100 * r['conf_min_nominal']:.0f}) "
            f"| {pm(r['false_continue_at_no_effect'], r['false_continue_at_no_effect_mcse'])} "
            f"({ref(r['false_continue_at_no_effect_reference'])}) "
            f"| {pm(r['false_stop_at_min'], r['false_stop_at_min_mcse'])} "
            f"({ref(r['false_stop_at_min_reference'])}) "
            f"| {_verdict(r)} |")
    return head + "\n".join(lines) + "\n"


def rise_table(rows: list[dict[str, Any]]) -> str:
    """The recent-rise check's table: how often it fails, and the rule's error rates with it."""

    def pm(key: str, r: dict[str, Any]) -> str:
        return f"{100 * r[key]:.1f} ± {100 * r[key + '_mcse']:.1f}"

    head = ("| persistence | treated | selection | check fails at 0 % | check fails at min % "
            "| false continue at 0 %: without check / with (ref.) "
            "| false stop at min %: without / with (ref.) |\n|---|---|---|---|---|---|---|\n")
    lines = [f"| {r['persistence']} | {r['n_treated']} | {r['treated']} "
             f"| {pm('recent_rise_fails_at_no_effect', r)} | {pm('recent_rise_fails_at_min', r)} "
             f"| {pm('false_continue_at_no_effect', r)} / "
             f"{pm('false_continue_at_no_effect_with_check', r)} "
             f"({100 * (r['false_continue_at_no_effect_reference'] or math.nan):.1f}) "
             f"| {pm('false_stop_at_min', r)} / {pm('false_stop_at_min_with_check', r)} "
             f"({100 * (r['false_stop_at_min_reference'] or math.nan):.1f}) |" for r in rows]
    return head + "\n".join(lines) + "\n"


def rise_grid() -> list[Cell]:
    """Cells for the recent-rise check: each selection without and with persistence."""
    return [Cell(persistence=p, n_treated=3, size_spread=1.0, treated=s)
            for p in ("none", "moderate", "strong") for s in ("spike", "random", "largest")]
