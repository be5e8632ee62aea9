"""The verdict rule as data and pure functions: continue, adapt, stop or inconclusive.

`decide()` is called once per analysis; its dict is stored in result.json["decision"]. It holds
codes and numbers only: the report layer (`evaluation.report.verdict_text`) turns them into
sentences in the page language. The rule itself (`classify`) is stated once, in
`evaluation.design.decision_rule`, on two quantities: `any` (some reduction, RR < 1) and `min`
(at least the registered minimum reduction, RR <= 1 - min_reduction).

Where the two quantities come from is registered in the design (`decision.basis`):

- `primary`: the registered frequentist analysis, as confidence from its own inference
  (`primary["confidence"]`, see `evaluation.estimators.confidence`: the one-sided mid-p of the
  randomization test, or the fitted normal of model-based / cluster / HAC errors, or the wild
  bootstrap). Only an estimator without its own confidence falls back on reading the reported
  (1 - alpha) interval as a normal confidence distribution (method `interval_fallback`).
- `bayesian`: the posterior probabilities of the Bayesian model.

The other analysis, when it was run, is support: `support` stores the category it would give and
the code `support_differs` when that is not the verdict. It never changes the verdict.

Blocking problems make the verdict inconclusive whatever the numbers: an exploratory analysis, a
design that does not match its registration, a failed blocking check (pre-trends), or an
unreliable Bayesian fit when the Bayesian model is the registered basis. The verdict is never a
silent "continue". Deviations that do not block (analysed under another method version than
registered) are listed in `deviations`; `error_rates` quotes the design diagnosis' operating
characteristics of the rule when a current diagnosis exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from evaluation import defaults
from evaluation.design.decision_rule import VERDICTS, DecisionSpec, as_rule_dict, classify
from evaluation.estimators.confidence import all_finite, interval_confidence, rule_thresholds

__all__ = ["VERDICTS", "Basis", "blocking_problems", "classify", "decide", "evidence_level",
           "frequentist_basis", "rule_of"]

# The check kinds that test the comparison's parallel trends, per design (a controlled ITS has
# no event study: its pre-period placebo starts test the same thing).
PRETREND_KINDS = {"did": ("pre_trends",), "its": ("pre_trends", "placebo")}


def rule_of(rule: Any) -> DecisionSpec:
    """The registered rule from a design's DecisionSpec, a dict, or None (the defaults)."""
    return rule if isinstance(rule, DecisionSpec) else DecisionSpec(**as_rule_dict(rule))


@dataclass(frozen=True)
class Basis:
    """The rule's two quantities, where they come from, and the numbers the reasons quote."""

    source: str  # "frequentist" | "bayesian"
    quantity: str  # "confidence" (frequentist) | "probability" (posterior)
    method: str  # randomization | normal | wild_bootstrap | exact_poisson | interval_fallback | posterior
    scale: str
    estimate: float
    low: float
    high: float
    interval_level: float  # 1 - alpha, or the HDI probability
    p_any: float
    p_min: float | None
    mcse: dict[str, float] | None = None
    p_value: float | None = None
    pct_change: float | None = None
    estimable: bool = True  # False: separation, a one-sided interval without a point estimate
    boundary: str | None = None  # which separation: "separation" (after) | "separation_before"

    def to_dict(self) -> dict[str, Any]:
        boundary = {} if self.boundary is None else {"boundary": self.boundary}
        return {**boundary,"source": self.source, "quantity": self.quantity, "method": self.method,
                "scale": self.scale, "estimate": self.estimate, "low": self.low,
                "high": self.high, "interval_level": self.interval_level,
                "p_any_reduction": self.p_any, "p_min_reduction": self.p_min, "mcse": self.mcse,
                "p_value": self.p_value, "pct_change": self.pct_change,
                "estimable": self.estimable}


def decide(*, primary: dict[str, Any], bayesian: dict[str, Any] | None,
           checks: list[Any], registration: str | dict[str, Any], rule: Any,
           alpha: float | None = None, deviations: list[dict[str, Any]] | None = None,
           diagnosis: dict[str, Any] | None = None) -> dict[str, Any]:
    """The verdict dict stored in result.json["decision"] (see the module docstring).

    `reason` says what decided: "blocked" (see `blocking`), "no_estimate", or "rule" (the
    verdict follows from `basis` and `rule`). `alpha`: the design's, for the interval fallback
    when the primary does not record its own. `diagnosis`: the design's current diagnosis.
    """
    rule_obj = rule_of(rule)
    reg = _registration(registration)
    check_dicts = [_check(c) for c in checks]
    evidence = evidence_level(design=reg["design"], controlled=reg["controlled"],
                              primary=primary, checks=check_dicts)
    blocking = blocking_problems(reg, check_dicts, bayesian, basis=rule_obj.basis)
    frequentist = frequentist_basis(primary, rule=rule_obj, alpha=alpha)
    posterior = bayesian_basis(bayesian)
    chosen, other = (posterior, frequentist) if rule_obj.basis == "bayesian" else \
        (frequentist, posterior)
    basis = None
    if blocking:
        verdict, reason = "inconclusive", "blocked"
    else:
        basis = chosen
        if basis is None:
            verdict, reason = "inconclusive", "no_estimate"
        else:
            verdict, reason = classify(p_any=basis.p_any, p_min=basis.p_min, rule=rule_obj), "rule"
    return {
        "verdict": verdict,
        "reason": reason,
        "blocking": blocking,
        "registered_basis": rule_obj.basis,
        "basis": None if basis is None else basis.to_dict(),
        "support": _support(other, bayesian, verdict=verdict, reason=reason, rule=rule_obj),
        "rule": rule_obj.model_dump(),
        "evidence_level": evidence,
        "deviations": list(deviations or []),
        "error_rates": error_rates(diagnosis),
        # ITS: the smallest reduction the series could show under its own dependence (issue 21)
        "minimum_detectable": primary.get("minimum_detectable"),
    }


# --- the two quantities ----------------------------------------------------------------------
def bayesian_basis(bayesian: dict[str, Any] | None) -> Basis | None:
    """Posterior probabilities of a reliable Bayesian fit (None without a usable fit)."""
    if bayesian is None or not bayesian.get("reliable", False):
        return None
    p_any, p_min = bayesian.get("p_any_reduction"), bayesian.get("p_min_reduction")
    median = bayesian.get("rr_median")
    if not all_finite(p_any, p_min, median):
        return None
    return Basis(source="bayesian", quantity="probability", method="posterior",
                 scale="rate_ratio", estimate=float(median), low=_float(bayesian.get("hdi_low")),
                 high=_float(bayesian.get("hdi_high")),
                 interval_level=float(bayesian.get("hdi_prob") or 1 - defaults.ALPHA),
                 p_any=float(p_any), p_min=float(p_min), pct_change=100 * (float(median) - 1))


def frequentist_basis(primary: dict[str, Any], *, rule: Any,
                      alpha: float | None = None) -> Basis | None:
    """The primary analysis' confidence of any and of the minimum reduction.

    From `primary["confidence"]` (the analysis' own inference); only when that is missing, from
    the reported interval (`estimators.confidence.interval_confidence`, method
    `interval_fallback`) at the design's alpha.
    """
    rule_obj = rule_of(rule)
    est, lo, hi = (primary.get(k) for k in ("estimate", "ci_low", "ci_high"))
    conf = primary.get("confidence")
    # Separation has no point estimate, but the exact conditional test still gives the rule's
    # confidence at both thresholds (1 - P(no treated event after the start | RR = threshold)):
    # the one-sided interval can support a verdict. Any other missing estimate cannot.
    one_sided = primary.get("estimable") is False and bool(primary.get("one_sided")) and \
        bool(conf) and all_finite(conf.get("any_reduction"))
    if not (all_finite(est) or one_sided):
        return None
    level_alpha = _alpha(primary, alpha)
    scale = primary.get("scale", "rate_ratio")
    if not (conf and all_finite(conf.get("any_reduction"))):
        conf = interval_confidence(estimate=est, low=lo, high=hi, scale=scale, alpha=level_alpha,
                                   thresholds=_fallback_thresholds(primary, scale, rule_obj))
    if conf is None:
        return None
    p_min = conf.get("min_reduction")
    return Basis(source="frequentist", quantity="confidence", method=str(conf.get("method")),
                 scale=scale, estimate=_float(est), low=_float(lo), high=_float(hi),
                 interval_level=1 - level_alpha, p_any=float(conf["any_reduction"]),
                 p_min=None if p_min is None else float(p_min), mcse=conf.get("mcse"),
                 p_value=primary.get("p_value"), pct_change=primary.get("pct_change"),
                 estimable=not one_sided,
                 boundary=(primary.get("not_estimable") or {}).get("code") if one_sided else None)


def _fallback_thresholds(primary: dict[str, Any], scale: str,
                         rule: DecisionSpec) -> dict[str, float | None]:
    # linear: the counterfactual mean is estimate / (pct_change / 100)
    est, pct = primary.get("estimate"), primary.get("pct_change")
    cf_mean = est / (pct / 100) if all_finite(est, pct) and pct != 0 else None
    return rule_thresholds(scale=scale, min_reduction=rule.min_reduction,
                           counterfactual_mean=cf_mean)


def _alpha(primary: dict[str, Any], alpha: float | None) -> float:
    if alpha is not None:
        return float(alpha)
    return float(primary["alpha"]) if all_finite(primary.get("alpha")) else defaults.ALPHA


def _support(other: Basis | None, bayesian: dict[str, Any] | None, *, verdict: str,
             reason: str, rule: DecisionSpec) -> dict[str, Any] | None:
    """What the analysis that is not the basis would give, as a code and its numbers."""
    if other is None:
        if rule.basis == "primary" and bayesian is not None and not bayesian.get("reliable"):
            return {"source": "bayesian", "code": "support_unreliable",
                    "detail": bayesian.get("reliability_reason") or "diagnostics failed"}
        return None
    category = classify(p_any=other.p_any, p_min=other.p_min, rule=rule)
    # compared only when the rule decided (a blocked verdict is no category to compare with)
    code = None if reason != "rule" else \
        "support_agrees" if category == verdict else "support_differs"
    return {"source": other.source, "quantity": other.quantity, "verdict": category,
            "code": code, "p_any_reduction": other.p_any, "p_min_reduction": other.p_min,
            "estimate": other.estimate, "low": other.low, "high": other.high,
            "interval_level": other.interval_level}


def error_rates(diagnosis: dict[str, Any] | None) -> dict[str, Any] | None:
    """The rule's error rates from the design diagnosis, for the verdict's explanation."""
    oc = (diagnosis or {}).get("operating_characteristics")
    if not oc:
        return None
    rows = {row["scenario"]: row for row in oc.get("scenarios", [])}
    if "no_effect" not in rows or "expected" not in rows:
        return None
    return {"sims": oc.get("sims"), "basis": oc.get("basis"),
            "basis_simulated": oc.get("basis_simulated"),
            "expected_reduction": rows["expected"]["reduction"],
            "continue_at_no_effect": _rate(rows["no_effect"], "continue"),
            "stop_at_expected": _rate(rows["expected"], "stop"),
            "diagnosis_sha256": (diagnosis or {}).get("sha256")}


def _rate(row: dict[str, Any], verdict: str) -> dict[str, Any]:
    return {"value": row["rates"][verdict], "mcse": row["mcse"][verdict]}


# --- blocking problems -----------------------------------------------------------------------
def blocking_problems(reg: dict[str, Any], checks: list[dict[str, Any]],
                      bayesian: dict[str, Any] | None, *,
                      basis: str = defaults.DECISION_BASIS) -> list[dict[str, Any]]:
    """What stops the rule from deciding, as codes with their details. An unreliable Bayesian
    fit blocks only when the Bayesian model is the registered basis (else it is support)."""
    found: list[dict[str, Any]] = []
    if reg["status"] == "exploratory":
        found.append({"code": "exploratory"})
    if reg["matches"] is False:
        found.append({"code": "registration_mismatch"})
    unreliable = bayesian is not None and not bayesian.get("reliable", False)
    if unreliable and basis == "bayesian":
        found.append({"code": "bayesian_unreliable",
                      "detail": bayesian.get("reliability_reason") or "diagnostics failed"})
    for check in checks:
        if check["blocking"] and check["status"] == "fail":
            if check["kind"] == "bayesian_reliability" and (unreliable or basis != "bayesian"):
                continue  # already said above, or the fit is support only
            item = {"code": "check_failed", "check": check["name"], "kind": check["kind"],
                    "detail": check["detail"]}
            # a check worded per design (the ITS recent-rise check: one series, not areas) keeps
            # its design, so that the verdict's reason reads as the check's own sentence
            design = (check.get("values") or {}).get("design")
            if design:
                item["design"] = design
            found.append(item)
    return found


# --- evidence level --------------------------------------------------------------------------
def evidence_level(*, design: str | None, controlled: bool | None, primary: dict[str, Any],
                   checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Maryland Scientific Methods Scale of the design as run, and the code saying why.

    ITS without a comparison series: 2 (before-after with a trend, no control). DiD or controlled
    ITS: 3 only when the pre-trend check passed AND that pass means something: the test had at
    least defaults.PRETREND_MIN_POWER power against a trend that would move the estimate by the
    minimum reduction (`parallel_shown`), or the relative-magnitudes sensitivity bound (post-period
    violations up to Mbar times the largest pre-period one) still excludes no effect
    (`parallel_robust`). A non-rejection alone is `pretrend_low_power` (2); a failed check
    `pretrend_failed`, a check that could not be run (too few estimable leads)
    `pretrend_not_testable`, none at all `pretrend_not_run` (all 2). (For a controlled ITS
    without an event study: its pre-period placebo-start check.) Levels 4-5 need many units with
    rich controls or randomisation, which these designs lack.
    """
    if controlled is None:
        controlled = bool(primary.get("n_control"))
    if design == "its" and not controlled:
        return {"smss": 2, "code": "no_comparison", "design": design}
    kinds = PRETREND_KINDS.get(design or "did", PRETREND_KINDS["did"])
    pre = [c for c in checks if c["kind"] == kinds[0]] or \
        [c for c in checks if c["kind"] in kinds[1:]]
    if any(c["status"] == "fail" for c in pre):
        return {"smss": 2, "code": "pretrend_failed", "design": design}
    passed = [c for c in pre if c["status"] == "pass"]
    if not passed:
        code = "pretrend_not_testable" if pre else "pretrend_not_run"
        if any((c.get("values") or {}).get("skip_code") == "no_events_before" for c in pre):
            code = "pretrend_no_events_before"
        return {"smss": 2, "code": code, "design": design}
    power = _pass_power(passed)
    robust = any(bool(((c.get("values") or {}).get("sensitivity") or {})
                      .get("excludes_no_effect")) for c in passed)
    found = {"design": design, "power": power, "min_power": defaults.PRETREND_MIN_POWER,
             "sensitivity_excludes_no_effect": robust}
    if power is not None and power >= defaults.PRETREND_MIN_POWER:
        return {"smss": 3, "code": "parallel_shown", **found}
    if robust:
        return {"smss": 3, "code": "parallel_robust", **found}
    return {"smss": 2, "code": "pretrend_low_power", **found}


def _pass_power(passed: list[dict[str, Any]]) -> float | None:
    """The largest power among the passed pre-trend checks (None when none reports one)."""
    powers = [((c.get("values") or {}).get("power") or {}).get("power") for c in passed]
    powers = [float(p) for p in powers if all_finite(p)]
    return max(powers) if powers else None


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
            "blocking": bool(data.get("blocking", False)), "values": data.get("values") or {}}


def _float(value: Any) -> float:
    """A number, keeping an unbounded end (+-inf); NaN for anything that is not a number."""
    if isinstance(value, int | float) and not math.isnan(value):
        return float(value)
    return math.nan
