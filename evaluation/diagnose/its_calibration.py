"""Calibration of ITS inference: size and coverage under persistent shocks, per design cell.

One weekly series (a single treated unit, no comparison) from the one simulation model
(`simulation.synthetic`, PanelModel): a level of `level` attacks a week, a yearly season,
independent period shocks, and an AR(1) deviation of the log rate whose persistence and size
vary (`PERSISTENCE`). The registered analysis is quasi-Poisson with trend and 2 Fourier pairs.
Per series and inference, two numbers, each from one test:

- size: the two-sided test of "no change" at alpha rejects on a series WITHOUT an effect;
- coverage: the (1 - alpha) interval covers the true rate ratio on a series WITH an effect
  (`EFFECT`); for every inference here the interval is the inversion of its test, so "covers"
  is "the two-sided test at the truth does not reject" (no interval search needed).

Inferences: the default (block permutation, `estimators.its.blocks`), model-based Wald,
Newey-West (HAC, the rule-of-thumb lags), and the former `auto` (a Ljung-Box switch to HAC).
Monte Carlo errors are binomial, sqrt(p (1 - p) / n). A cell "cannot answer" when the default's
test has too few pre-period blocks (`defaults.ITS_MIN_PLACEBO_BLOCKS`): the analysis refuses
the inference there (blocking check `its_inference_validity`).

Run the table with `python benchmarks/calibration_its.py` (docs/calibration_its.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation import defaults
from evaluation.design.its_limits import valid_lengths
from evaluation.errors import EvaluationError
from evaluation.estimators.its import validated_series
from evaluation.estimators.its.blocks import block_test
from evaluation.estimators.its.inference import newey_west_lags, residual_tests
from evaluation.estimators.its.segmented import TREATED, CovChoice, fit
from evaluation.estimators.stats import wald
from evaluation.simulation.synthetic import SimulationConfig, simulate

# persistence label -> (AR(1) coefficient per week, stationary sd of the log deviation)
PERSISTENCE: dict[str, tuple[float, float]] = {
    "none": (0.0, 0.0), "moderate": (0.5, 0.15), "strong": (0.8, 0.3)}
EFFECT = 0.8  # the true rate ratio of the coverage series
METHODS = ("placebo_blocks", "model", "hac", "ljung_box_switch")
ANALYSIS = {"model": "quasi_poisson", "trend": True, "seasonality": 2, "inference": "auto"}


@dataclass(frozen=True)
class Cell:
    persistence: str
    level: float  # expected attacks a week
    n_pre: int
    n_post: int
    # a controlled ITS: a comparison series of the same size, sharing the period shocks and
    # season, each series with its own persistent deviation
    controlled: bool = False
    model: str = ANALYSIS["model"]  # the registered count or linear model

    def config(self) -> SimulationConfig:
        rho, sd = PERSISTENCE[self.persistence]
        series = 2 if self.controlled else 1
        return SimulationConfig(
            n_units=series, n_treated=1, n_periods=self.n_pre + self.n_post, start=self.n_pre,
            events_per_period=self.level * series, population_sd=0.0, unit_effect_sd=0.0,
            period_sd=0.1, season_amplitude=0.2, persistence=rho, deviation_sd=sd, design="its",
            controls=("GM0002",) if self.controlled else None,
            analysis={**ANALYSIS, "model": self.model})

    @property
    def answerable(self) -> bool:
        return valid_lengths(self.n_pre, self.n_post)


def rejects(data: Any, *, beta0: float, alpha: float) -> dict[str, bool]:
    """Per inference: does the two-sided level-alpha test of "level change = beta0" reject?"""
    frame, spec, t_start = validated_series(data)
    model_fit = fit(frame, spec=spec, t_start=t_start, choice=CovChoice("model"))
    lags = newey_west_lags(int(frame["t"].nunique()))
    hac_fit = fit(frame, spec=spec, t_start=t_start, choice=CovChoice("hac", lags))
    out = {}
    for name, fitted in (("model", model_fit), ("hac", hac_fit)):
        _, _, p = wald(fitted.coef("level_change") - beta0, fitted.se("level_change"), alpha)
        out[name] = bool(p < alpha)
    switch = residual_tests(frame, model_fit)[TREATED].p_value < defaults.AUTOCORR_ALPHA
    out["ljung_box_switch"] = out["hac"] if switch else out["model"]
    nb_alpha = model_fit.nb_alpha if spec.model == "negative_binomial" else None
    p_lower = block_test(frame, spec=spec, t_start=t_start, beta0=beta0, nb_alpha=nb_alpha).p_lower
    out["placebo_blocks"] = bool(min(p_lower, 1 - p_lower) < alpha / 2)
    return out


def run_cell(cell: Cell, *, reps: int, seed: int, alpha: float = defaults.ALPHA) -> dict[str, Any]:
    """Size and coverage of every inference in one cell, with Monte Carlo errors."""
    rng = np.random.default_rng(seed)
    config = cell.config()
    size = dict.fromkeys(METHODS, 0)
    miss = dict.fromkeys(METHODS, 0)
    failed = 0
    # a linear model's level change is a difference in counts, which a rate ratio does not fix
    # (it varies with the season): its coverage has no single true value, so size only
    scenarios = ((size, 1.0),) if cell.model == "linear" else ((size, 1.0), (miss, EFFECT))
    for _ in range(reps):
        for counts, rate_ratio in scenarios:
            data = simulate(rng, config, rate_ratio=rate_ratio)
            try:
                result = rejects(data, beta0=math.log(rate_ratio), alpha=alpha)
            except EvaluationError:
                # e.g. no attack at all after the start at 1 a week: the analysis refuses, which
                # rejects nothing (and, at the effect, counts as covering: no claim is made)
                failed += 1
                continue
            for name, hit in result.items():
                counts[name] += hit
    row: dict[str, Any] = {"persistence": cell.persistence, "level": cell.level,
                           "n_pre": cell.n_pre, "n_post": cell.n_post,
                           "controlled": cell.controlled, "model": cell.model, "reps": reps,
                           "answerable": cell.answerable, "not_estimable": failed}
    for name in METHODS:
        s, c = size[name] / reps, 1 - miss[name] / reps
        row[name] = {"size": s, "size_mcse": math.sqrt(s * (1 - s) / reps),
                     "coverage": c, "coverage_mcse": math.sqrt(c * (1 - c) / reps)}
        if len(scenarios) == 1:
            row[name].update(coverage=None, coverage_mcse=None)
    return row


def grid(persistence: Iterable[str], levels: Iterable[float], pre: Iterable[int],
         post: Iterable[int], *, controlled: bool = False,
         model: str = ANALYSIS["model"]) -> list[Cell]:
    return [Cell(p, float(lv), int(a), int(b), controlled, model) for p in persistence
            for lv in levels for a in pre for b in post]


def run_grid(cells: list[Cell], *, reps: int, seed: int,
             progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    rows = []
    for i, cell in enumerate(cells):
        rows.append(run_cell(cell, reps=reps, seed=seed + i))
        if progress:
            progress(i + 1, len(cells))
    return rows


def holds_level(row: dict[str, Any], method: str = "placebo_blocks", *,
                alpha: float = defaults.ALPHA, mcse_limit: float = 2.0) -> bool:
    """Size and coverage within `mcse_limit` binomial errors (at the nominal rate) of nominal."""
    reps = row["reps"]
    err = mcse_limit * math.sqrt(alpha * (1 - alpha) / reps)
    r = row[method]
    covered = r["coverage"] is None or r["coverage"] >= 1 - alpha - err
    return r["size"] <= alpha + err and covered


def markdown(rows: list[dict[str, Any]], *, alpha: float = defaults.ALPHA) -> str:
    """The calibration table: size and coverage (Monte Carlo error) per cell and inference."""
    names = {"placebo_blocks": "placebo blocks (default)", "model": "model-based",
             "hac": "Newey-West", "ljung_box_switch": "former auto (Ljung-Box)"}
    head = ("| persistence | attacks/week | weeks before | weeks after | "
            + " | ".join(f"{names[m]} size | {names[m]} coverage" for m in METHODS)
            + " | default holds? |")
    lines = [head, "|" + "---|" * (4 + 2 * len(METHODS) + 1)]
    for row in rows:
        cells = [row["persistence"], f"{row['level']:g}", str(row["n_pre"]), str(row["n_post"])]
        for m in METHODS:
            r = row[m]
            cells += [f"{r['size']:.3f} ({r['size_mcse']:.3f})",
                      "-" if r["coverage"] is None
                      else f"{r['coverage']:.3f} ({r['coverage_mcse']:.3f})"]
        verdict = ("cannot answer (series too short)" if not row["answerable"] else
                   "yes" if holds_level(row, alpha=alpha) else "NO")
        lines.append("| " + " | ".join(cells + [verdict]) + " |")
    return "\n".join(lines) + "\n"
