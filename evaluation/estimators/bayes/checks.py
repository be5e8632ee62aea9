"""The Bayesian fit's checks: reliability (blocking), the prior predictive check, prior sensitivity.

`fit_bayesian` summarises these in its summary dict; here they become `Check`s of the result.
"""

from __future__ import annotations

from typing import Any

from evaluation.estimators.output import Check


def bayesian_checks(summary: dict[str, Any], *, basis: str = "bayesian") -> list[Check]:
    """The checks of a Bayesian fit; its reliability blocks the verdict only when the Bayesian
    model is the registered decision basis (`decision.basis`), else the fit is support."""
    checks = [Check(
        name="bayesian_reliability", kind="bayesian_reliability",
        status="pass" if summary.get("reliable") else "fail",
        detail=summary.get("reliability_reason", ""),
        blocking=basis == "bayesian",
        values=summary.get("diagnostics", {}),
    )]
    prior_pred = summary.get("prior_predictive")
    if prior_pred:
        checks.append(Check(
            name="prior_predictive", kind="prior_predictive", status=prior_pred["status"],
            detail=(f"Rule: the prior's {prior_pred['quantile']:.0%} quantile of a period's simulated count "
                    f"({prior_pred['simulated_period_count_quantile']:.0f}) must stay below "
                    f"{prior_pred['max_multiple']}x the largest observed count ({prior_pred['limit']:.0f})."),
            values={k: v for k, v in prior_pred.items() if k not in {"status", "detail"}},
        ))
    sensitivity = summary.get("prior_sensitivity_check")
    if sensitivity:
        checks.append(Check(name="prior_sensitivity", kind="prior_sensitivity", status=sensitivity["status"],
                            detail=sensitivity["detail"], values=sensitivity.get("values", {})))
    return checks
