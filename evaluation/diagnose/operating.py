"""The decision rule's operating characteristics: how often it continues, adapts, stops or says
"inconclusive" when the truth is known, and whether that is worse than it has to be.

Every simulated analysis gives the rule's two quantities (the primary analysis' confidence of any
and of the minimum reduction, `estimators.confidence`); `classify` (the registered rule, stated
once in `design.decision_rule`) turns them into a verdict. A simulation whose analysis could not
run, or gave no confidence, is "inconclusive": the analysis would not have decided either.
Rates are shares of the simulations with binomial Monte Carlo errors sqrt(p (1 - p) / n).

Scenarios: no effect, the registered minimum reduction, the hoped-for reduction
(`decision.expected_reduction`).

The reference: an exactly calibrated analysis of the same precision. Its estimate is normal around
the truth with the spread (sd) of the simulated estimates at that effect, and its confidence is
the normal confidence distribution, confidence(beta0) = Phi((beta0 - estimate) / sd). The rule's
verdict is then a step function of the estimate with steps where a quantity meets a threshold, so
its verdict rates are sums of normal probabilities (a closed form, computed with `classify`
itself on each step). A simulated rate is a problem when it is worse than the reference by more
than 2 Monte Carlo errors (binomial, at the reference or the simulated rate, whichever is larger;
a one-sided comparison: a rule that errs less often than the reference is no problem). Worse means: continuing or adapting at no
effect; stopping at the minimum or the hoped-for reduction; continuing less often at the
hoped-for reduction. The test's size is compared with alpha (too many false positives) and the
interval's coverage with 1 - alpha (too low; over-coverage is harmless).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import norm

from evaluation.design.decision_rule import VERDICTS, DecisionSpec, classify

MCSE_LIMIT = 2.0  # a rate is a problem beyond reference + this many Monte Carlo errors
# (scenario, verdict, the direction that is worse)
WORSE: tuple[tuple[str, str, str], ...] = (
    ("no_effect", "continue", "higher"), ("no_effect", "adapt", "higher"),
    ("min_reduction", "stop", "higher"),
    ("expected", "stop", "higher"), ("expected", "continue", "lower"),
)


def simulated_verdicts(conf_any: np.ndarray, conf_min: np.ndarray, failed: np.ndarray, *,
                       rule: DecisionSpec) -> np.ndarray:
    """The rule's verdict per simulation ("inconclusive" where the analysis gave nothing)."""
    out = []
    for any_, min_, bad in zip(conf_any, conf_min, failed, strict=True):
        if bad or not math.isfinite(any_):
            out.append("inconclusive")
        else:
            out.append(classify(p_any=float(any_), p_min=float(min_) if math.isfinite(min_)
                                else None, rule=rule))
    return np.array(out)


def rates(verdicts: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Share of each verdict and its Monte Carlo error."""
    n = len(verdicts)
    share = {v: float(np.mean(verdicts == v)) if n else math.nan for v in VERDICTS}
    mcse = {v: math.sqrt(p * (1 - p) / n) if n else math.nan for v, p in share.items()}
    return share, mcse


def calibrated_rates(*, truth: float, sd: float, threshold_min: float | None,
                     rule: DecisionSpec) -> dict[str, float] | None:
    """Verdict rates of an exactly calibrated analysis: estimate ~ Normal(truth, sd), confidence
    from the same normal (closed form; see the module docstring)."""
    if not (math.isfinite(truth) and math.isfinite(sd) and sd > 0):
        return None

    def quantities(estimate: float) -> tuple[float, float | None]:
        c_any = float(norm.cdf((0.0 - estimate) / sd))
        c_min = None if threshold_min is None else float(norm.cdf((threshold_min - estimate) / sd))
        return c_any, c_min

    # steps of the verdict in the estimate: where a quantity meets a threshold of the rule
    levels = (rule.continue_probability, rule.stop_probability, 0.5)
    cuts = {float(-sd * norm.ppf(c)) for c in levels}
    if threshold_min is not None:
        cuts |= {float(threshold_min - sd * norm.ppf(c)) for c in levels}
    edges = [-math.inf, *sorted(cuts), math.inf]
    out = dict.fromkeys(VERDICTS, 0.0)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        c_any, c_min = quantities(_inside(low, high, sd))
        verdict = classify(p_any=c_any, p_min=c_min, rule=rule)
        out[verdict] += float(norm.cdf((high - truth) / sd) - norm.cdf((low - truth) / sd))
    return out


def _inside(low: float, high: float, sd: float) -> float:
    if math.isinf(low):
        return high - sd
    if math.isinf(high):
        return low + sd
    return 0.5 * (low + high)


def scenario(name: str, *, reduction: float, row: dict[str, Any], values: np.ndarray,
             threshold_min: float | None, rule: DecisionSpec) -> dict[str, Any]:
    """One scenario's verdict rates, their Monte Carlo errors and the calibrated reference."""
    conf_any, conf_min, failed = values[:, 4], values[:, 5], values[:, 3] > 0
    share, mcse = rates(simulated_verdicts(conf_any, conf_min, failed, rule=rule))
    sd = row.get("sd_estimate")
    reference = calibrated_rates(truth=row["truth"], sd=math.nan if sd is None else sd,
                                 threshold_min=threshold_min, rule=rule)
    return {"scenario": name, "reduction": reduction, "effect": row["effect"],
            "truth": row["truth"], "n_sims": len(values), "rates": share, "mcse": mcse,
            "reference": reference, "reference_sd": sd}


def problems(scenarios: list[dict[str, Any]], *, size: dict[str, Any],
             coverage: dict[str, Any], alpha: float) -> list[dict[str, Any]]:
    """Every rate worse than the calibrated reference + 2 Monte Carlo errors, as codes."""
    by_name = {s["scenario"]: s for s in scenarios}
    found = []
    for name, verdict, worse in WORSE:
        row = by_name.get(name)
        if row is None or row["reference"] is None:
            continue
        found.extend(_compare(f"{verdict}_at_{name}", row["rates"][verdict],
                              row["reference"][verdict], row["n_sims"], worse,
                              scenario=name, verdict=verdict))
    found.extend(_compare("size", size["value"], alpha, size["n_sims"], "higher"))
    if coverage["value"] is not None:
        found.extend(_compare("coverage", coverage["value"], 1 - alpha, coverage["n_sims"],
                              "lower"))
    return found


def _compare(code: str, value: float, reference: float, n: int, worse: str,
             **extra: Any) -> list[dict[str, Any]]:
    if not (math.isfinite(value) and n > 0):
        return []
    # the larger of the binomial errors at the reference and at the simulated rate: a reference
    # of (almost) 0 would otherwise flag a single simulation
    mcse = math.sqrt(max(reference * (1 - reference), value * (1 - value), 0.0) / n)
    limit = reference + MCSE_LIMIT * mcse if worse == "higher" else reference - MCSE_LIMIT * mcse
    bad = value > limit if worse == "higher" else value < limit
    if not bad:
        return []
    return [{"code": code, **extra, "value": value, "reference": reference, "mcse": mcse,
             "limit": limit, "worse": worse}]


def operating_characteristics(*, values: np.ndarray, rows: list[dict[str, Any]],
                              effects: tuple[float, ...], threshold_min: float | None,
                              rule: DecisionSpec, alpha: float) -> dict[str, Any]:
    """The rule's verdict rates at no effect, the minimum and the hoped-for reduction, the
    test's size and coverage, each against the calibrated reference, and the problems found.
    `values`: sims x effects x OUTCOME_FIELDS; `rows`: the diagnosands per effect."""
    wanted = (("no_effect", 0.0), ("min_reduction", rule.min_reduction),
              ("expected", rule.expected_reduction))
    scenarios = []
    for name, reduction in wanted:
        j = effects.index(-reduction if reduction else 0.0)
        scenarios.append(scenario(name, reduction=reduction, row=rows[j], values=values[:, j],
                                  threshold_min=threshold_min, rule=rule))
    null = rows[effects.index(0.0)]
    n = len(values)
    size = {"value": null["false_positive_rate"], "mcse": null["false_positive_mcse"],
            "reference": alpha, "n_sims": n}
    n_ok = n - null["n_failed"]
    coverage = {"value": null["coverage"], "mcse": null["coverage_mcse"], "reference": 1 - alpha,
                "n_sims": n_ok}
    return {"basis": rule.basis, "basis_simulated": rule.basis == "primary", "sims": n,
            "rule": rule.model_dump(), "scenarios": scenarios, "size": size,
            "coverage": coverage,
            "problems": problems(scenarios, size=size, coverage=coverage, alpha=alpha)}
