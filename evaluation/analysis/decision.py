"""The verdict rule as data and pure functions: continue, adapt, stop or inconclusive.

`decide()` is called once per analysis; its dict is stored in result.json["decision"]. It holds
codes and numbers only: the report layer (`evaluation.report.verdict_text`) turns them into
sentences in the page language. The rule, stated once (the methods page quotes it):

  P_any = P(RR < 1)                        (some reduction)
  P_min = P(RR <= 1 - min_reduction)       (at least the registered minimum reduction)

  continue      P_min >= continue_probability
  stop          P_any <  stop_probability
  adapt         P_any >= continue_probability and P_min < 0.5
                (some reduction, as sure as a continue needs to be, but probably less than the
                minimum; a merely likely reduction in a wide interval is "the data cannot tell")
  inconclusive  everything else (e.g. P_min between 0.5 and continue_probability)

The probabilities come from the posterior when a Bayesian fit exists and is reliable. Without a
Bayesian fit they come from the frequentist interval read as a confidence distribution: normal on the
log-RR scale, centred at the estimate, each side scaled by its own half-width of the reported
(1 - alpha) interval, so that e.g. "upper bound < 1 - min_reduction" <=> P_min > 1 - alpha/2.

Blocking problems make the verdict inconclusive whatever the numbers: an exploratory analysis, a
design that does not match its registration, a failed blocking check (pre-trends), or an
unreliable Bayesian fit. The verdict is never a silent "continue".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy.stats import norm

from evaluation import defaults

VERDICTS = ("continue", "adapt", "stop", "inconclusive")
# The check kinds that test the comparison's parallel trends, per design (a controlled ITS has
# no event study: its pre-period placebo starts test the same thing).
PRETREND_KINDS = {"did": ("pre_trends",), "its": ("pre_trends", "placebo")}


@dataclass(frozen=True)
class Rule:
    min_reduction: float
    continue_probability: float
    stop_probability: float

    @classmethod
    def of(cls, rule: Any) -> Rule:
        """From a design's DecisionSpec, a dict, or None (the defaults)."""
        data = rule.model_dump() if hasattr(rule, "model_dump") else dict(rule or {})
        return cls(min_reduction=float(data.get("min_reduction", defaults.MIN_REDUCTION)),
                   continue_probability=float(data.get("continue_probability",
                                                       defaults.CONTINUE_PROBABILITY)),
                   stop_probability=float(data.get("stop_probability", defaults.STOP_PROBABILITY)))

    def to_dict(self) -> dict[str, float]:
        return {"min_reduction": self.min_reduction,
                "continue_probability": self.continue_probability,
                "stop_probability": self.stop_probability}


@dataclass(frozen=True)
class Basis:
    """Where the probabilities come from and the numbers the reasons quote."""

    source: str  # "bayesian" | "frequentist"
    scale: str
    estimate: float
    low: float
    high: float
    p_any: float
    p_min: float | None
    p_value: float | None = None
    pct_change: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "scale": self.scale, "estimate": self.estimate,
                "low": self.low, "high": self.high, "p_any_reduction": self.p_any,
                "p_min_reduction": self.p_min, "p_value": self.p_value,
                "pct_change": self.pct_change}


def decide(*, primary: dict[str, Any], bayesian: dict[str, Any] | None,
           checks: list[Any], registration: str | dict[str, Any],
           rule: Any) -> dict[str, Any]:
    """The verdict dict stored in result.json["decision"] (see the module docstring for the rule).

    `reason` says what decided: "blocked" (see `blocking`), "no_estimate", or "rule" (the
    verdict follows from `basis` and `rule`).
    """
    rule_obj = Rule.of(rule)
    reg = _registration(registration)
    check_dicts = [_check(c) for c in checks]
    evidence = evidence_level(design=reg["design"], controlled=reg["controlled"],
                              primary=primary, checks=check_dicts)
    blocking = blocking_problems(reg, check_dicts, bayesian)
    basis = None
    if blocking:
        verdict, reason = "inconclusive", "blocked"
    else:
        basis = _basis(primary, bayesian, rule_obj)
        if basis is None:
            verdict, reason = "inconclusive", "no_estimate"
        else:
            verdict, reason = classify(p_any=basis.p_any, p_min=basis.p_min, rule=rule_obj), "rule"
    return {
        "verdict": verdict,
        "reason": reason,
        "blocking": blocking,
        "basis": None if basis is None else basis.to_dict(),
        "rule": rule_obj.to_dict(),
        "evidence_level": evidence,
    }


def classify(*, p_any: float, p_min: float | None, rule: Rule) -> str:
    """Apply the registered rule to the two probabilities (order matters: continue first)."""
    if p_min is not None and p_min >= rule.continue_probability:
        return "continue"
    if p_any < rule.stop_probability:
        return "stop"
    if p_min is not None and p_any >= rule.continue_probability and p_min < 0.5:
        return "adapt"
    return "inconclusive"


# --- probabilities ---------------------------------------------------------------------------
def _basis(primary: dict[str, Any], bayesian: dict[str, Any] | None, rule: Rule) -> Basis | None:
    if bayesian is not None:
        # an unreliable fit was caught as blocking before we get here
        p_any, p_min = bayesian.get("p_any_reduction"), bayesian.get("p_min_reduction")
        median = bayesian.get("rr_median")
        if _finite(p_any, p_min, median):
            return Basis(source="bayesian", scale="rate_ratio", estimate=float(median),
                         low=_float(bayesian.get("hdi_low")), high=_float(bayesian.get("hdi_high")),
                         p_any=float(p_any), p_min=float(p_min),
                         pct_change=100 * (float(median) - 1))
    return frequentist_probabilities(primary, min_reduction=rule.min_reduction)


def frequentist_probabilities(primary: dict[str, Any], *, min_reduction: float,
                              alpha: float = defaults.ALPHA) -> Basis | None:
    """P_any and P_min from the reported interval read as a confidence distribution."""
    est, lo, hi = (primary.get(k) for k in ("estimate", "ci_low", "ci_high"))
    scale = primary.get("scale", "rate_ratio")
    se = primary.get("std_error")
    if not _finite(est):
        return None
    z = norm.ppf(1 - alpha / 2)
    if scale == "rate_ratio":
        if est <= 0:
            return None
        centre = math.log(est)
        sides = _half_widths(centre, lo, hi, z, se, transform=math.log)
        threshold_any, threshold_min = 0.0, math.log(1 - min_reduction)
    else:
        centre = float(est)
        sides = _half_widths(centre, lo, hi, z, se, transform=float)
        pct = primary.get("pct_change")
        # the counterfactual mean is estimate / (pct_change / 100): min_reduction is relative to it
        baseline = centre / (pct / 100) if _finite(pct) and pct != 0 else None
        threshold_any = 0.0
        threshold_min = -min_reduction * abs(baseline) if baseline is not None else None
    if sides is None:
        return None
    p_any = _prob_below(threshold_any, centre, sides)
    p_min = None if threshold_min is None else _prob_below(threshold_min, centre, sides)
    return Basis(source="frequentist", scale=scale, estimate=float(est), low=_float(lo),
                 high=_float(hi), p_any=p_any, p_min=p_min, p_value=primary.get("p_value"),
                 pct_change=primary.get("pct_change"))


def _half_widths(centre, lo, hi, z, se, *, transform) -> tuple[float, float] | None:
    # (lower-side sd, upper-side sd); from the interval when it is there, else from std_error
    try:
        if _finite(lo, hi) and (transform is float or (lo > 0 and hi > 0)):
            low_sd = (centre - transform(lo)) / z
            high_sd = (transform(hi) - centre) / z
            if low_sd > 0 and high_sd > 0:
                return low_sd, high_sd
    except ValueError:
        pass
    if _finite(se) and se > 0:
        return float(se), float(se)
    return None


def _prob_below(threshold: float, centre: float, sides: tuple[float, float]) -> float:
    sd = sides[1] if threshold >= centre else sides[0]
    return float(norm.cdf((threshold - centre) / sd))


# --- blocking problems -----------------------------------------------------------------------
def blocking_problems(reg: dict[str, Any], checks: list[dict[str, Any]],
                      bayesian: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What stops the rule from deciding, as codes with their details."""
    found: list[dict[str, Any]] = []
    if reg["status"] == "exploratory":
        found.append({"code": "exploratory"})
    if reg["matches"] is False:
        found.append({"code": "registration_mismatch"})
    unreliable = bayesian is not None and not bayesian.get("reliable", False)
    if unreliable:
        found.append({"code": "bayesian_unreliable",
                      "detail": bayesian.get("reliability_reason") or "diagnostics failed"})
    for check in checks:
        if check["blocking"] and check["status"] == "fail":
            if unreliable and check["kind"] == "bayesian_reliability":
                continue  # already said above
            found.append({"code": "check_failed", "check": check["name"], "kind": check["kind"],
                          "detail": check["detail"]})
    return found


# --- evidence level --------------------------------------------------------------------------
def evidence_level(*, design: str | None, controlled: bool | None, primary: dict[str, Any],
                   checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Maryland Scientific Methods Scale of the design as run, and the code saying why.

    ITS without a comparison series: 2 (before-after with a trend, no control). DiD or controlled
    ITS: 3 when a pre-trend check passed (the comparison group is shown to move in parallel; for a
    controlled ITS without an event study, its pre-period placebo-start check), else 2. Levels 4-5
    need many units with rich controls or randomisation, which these designs lack.
    """
    if controlled is None:
        controlled = bool(primary.get("n_control"))
    if design == "its" and not controlled:
        return {"smss": 2, "code": "no_comparison", "design": design}
    kinds = PRETREND_KINDS.get(design or "did", PRETREND_KINDS["did"])
    pre = [c for c in checks if c["kind"] == kinds[0]] or \
        [c for c in checks if c["kind"] in kinds[1:]]
    if any(c["status"] == "pass" for c in pre) and not any(c["status"] == "fail" for c in pre):
        return {"smss": 3, "code": "parallel_shown", "design": design}
    code = "pretrend_failed" if any(c["status"] == "fail" for c in pre) else "pretrend_not_run"
    return {"smss": 2, "code": code, "design": design}


# --- input normalisation ---------------------------------------------------------------------
def _registration(registration: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(registration, str):
        return {"status": registration, "matches": None, "design": None, "controlled": None}
    reg = dict(registration)
    return {"status": reg.get("status"), "matches": reg.get("matches"),
            "design": reg.get("design"), "controlled": reg.get("controlled")}


def _check(check: Any) -> dict[str, Any]:
    data = check.to_dict() if hasattr(check, "to_dict") else dict(check)
    return {"name": str(data.get("name", "")), "kind": str(data.get("kind", "")),
            "status": data.get("status", "skipped"), "detail": str(data.get("detail", "")),
            "blocking": bool(data.get("blocking", False))}


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _float(value: Any) -> float:
    return float(value) if _finite(value) else math.nan
