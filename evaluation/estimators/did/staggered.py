"""Heterogeneity-robust DiD for staggered starts: one entry point, `fit_staggered`.

Plain two-way fixed effects compares later-treated units with already-treated ones when start
dates differ, so its estimate mixes effects with weights that can even be negative. The three
estimators here only ever compare treated observations with untreated ones:

- `imputation` (Borusyak, Jaravel & Spiess): fit the unit + period fixed-effects model on the
  untreated observations only, predict the counterfactual for the treated observations, and
  compare (rate ratio sum(y) / sum(mu0) for counts; mean(y - y0) for linear outcomes).
  Module `imputation`.
- `sun_abraham` (Sun & Abraham interaction-weighted): cohort x event-time interactions, averaged
  with the share of treated observations in each cell. Module `sun_abraham`.
- `callaway_santanna` (linear outcomes; the `csdid` package, analytic influence-function errors,
  as R `did` with bstrap=FALSE). Module `callaway_santanna`.

`estimate` is on the estimation scale: the log rate ratio for count models, the difference for
linear ones; `ci_low`/`ci_high` are on that same scale. Tidy rows are on the presentation scale
(rate ratios for counts, with `std_error` of the log rate ratio), as `evaluation.estimators.output` expects.
"""

from __future__ import annotations

from evaluation.errors import AnalysisError
from evaluation.estimators.did.callaway_santanna import fit_callaway_santanna
from evaluation.estimators.did.imputation import fit_imputation
from evaluation.estimators.did.staggered_common import StaggeredFit
from evaluation.estimators.did.sun_abraham import fit_sun_abraham
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count

ESTIMATORS = ("imputation", "sun_abraham", "callaway_santanna")
CONTROL_GROUPS = ("never_treated", "not_yet_treated")


def resolve_estimator(data: PreparedData, estimator: str | None = None) -> tuple[str, str]:
    """The estimator to use for `auto` (or the registered one) and a plain reason.

    `auto`: plain TWFE for one start date; for staggered starts imputation for count models
    (it handles rare counts through the Poisson likelihood of the untreated observations) and
    Callaway-Sant'Anna for linear outcomes (the reference implementation, R `did`).
    """
    chosen = estimator or data.spec.estimator
    if chosen != "auto":
        return chosen, f"estimator `{chosen}` as registered in the design"
    if not data.staggered:
        return "twfe", "one start date for all treated units: plain two-way fixed effects is unbiased"
    if data.spec.model == "linear":
        return "callaway_santanna", ("treated units start at different dates and the outcome is "
                                     "linear: Callaway-Sant'Anna avoids comparisons with "
                                     "already-treated units")
    return "imputation", ("treated units start at different dates and the outcome is a count: "
                          "the imputation estimator compares treated observations only with "
                          "the Poisson fit of untreated ones")


def fit_staggered(data: PreparedData, *, estimator: str, control_group: str) -> StaggeredFit:
    """Fit a heterogeneity-robust DiD estimator (see the module docstring).

    estimator: imputation | sun_abraham | callaway_santanna (or auto, resolved as
    `resolve_estimator`); control_group: never_treated | not_yet_treated.
    """
    if estimator == "auto":
        estimator, _ = resolve_estimator(data, "auto")
        if estimator == "twfe":  # one start date: imputation is the robust form of TWFE
            estimator = "imputation" if is_count(data.spec.model) else "callaway_santanna"
    if estimator not in ESTIMATORS:
        raise AnalysisError(f"analysis.estimator: `{estimator}` is not a staggered estimator; "
                            f"use one of {', '.join(ESTIMATORS)} (or twfe via estimate_did)")
    if control_group not in CONTROL_GROUPS:
        raise AnalysisError(f"analysis.control_group: `{control_group}` is unknown; use "
                            f"{' or '.join(CONTROL_GROUPS)}")
    _check_treated(data)
    if estimator == "imputation":
        return fit_imputation(data, control_group=control_group)
    if estimator == "sun_abraham":
        return fit_sun_abraham(data, control_group=control_group)
    return fit_callaway_santanna(data, control_group=control_group)


def _check_treated(data: PreparedData) -> None:
    rows = data.estimation_rows
    treated = rows.loc[rows["treated_unit"]]
    if treated.empty:
        raise AnalysisError(f"design {data.design.id}: no treated unit has rows in the window; "
                            "check treatment.units / start_column and window")
    pre = treated.loc[treated["t"] < treated["cohort"]].groupby("unit").size()
    missing = sorted(set(treated["unit"]) - set(pre.index))
    if missing:
        raise AnalysisError(
            f"design {data.design.id}: treated unit(s) {', '.join(missing[:5])} have no untreated "
            "period inside the window; move window.start earlier or drop these units")
