"""The method version: one short hash of every setting that changes a number in an analysis.

A registered design fixes what is analysed; the method fixes how. Thresholds of the inference,
interval searches, priors, sampler settings, placebo fractions, harmonics, tolerances: changing
any of them changes registered analyses, so each registration entry and each result records
`method_version()`, and an analysis under another method version than its registration records a
deviation. Package versions are recorded beside it (`result.json["software"]`), not in it: the
method version says what the framework asked for, the package versions what computed it.

Constants that belong to the design (the defaults of design fields) are covered by the design
hash instead; `NOT_METHOD` lists every other default with the reason it is not part of the
method, and a test holds every constant in `evaluation.defaults` to one of the two lists.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from evaluation import defaults

# Raise this by one whenever the code changes a number with the same constants (a new way of
# computing p-values, intervals, confidence, priors, ...); it is hashed with the constants.
# 2: separation, non-estimable terms, derived intervals (issue 14); ITS `auto` is placebo-block
# inference (issue 21); studentised randomization statistic; persistent-deviation Bayesian DiD
# (issue 13).
# 3: prior sensitivity by Pareto-smoothed importance reweighting, refits only where k-hat is
# too large; the persistent-deviation model sums blocks by reshaping (issue 20).
# 4: separation before the start (DiD) and after it (ITS) answered by exact one-sided bounds on
# the one fit path (analysis, phases, diagnosis); overdispersed models count n / dispersion
# events in them; the diagnosis simulates the registered phase of treatment.end and counts its
# fits' warnings (issue 14, 18).
# 5: ITS placebo blocks: each block mean divided by its shrinkage under the null fit (issue 21);
# the blocking DiD recent-rise check (selection on a spike, issue 13).
# 6: the blocking recent-rise check for ITS too (estimators.its.recent_rise); the Bayesian ITS
# with persistent deviations (a latent AR(1) process); the persistent-deviation DiD's sums in
# another order (same model, other last digits); nutpie tunes 500 iterations (issue 13, 20).
LOGIC_REVISION = 6

METHOD_CONSTANTS: tuple[str, ...] = (
    # inference
    "RI_MIN_CLUSTERS", "RI_EXACT_MAX", "RI_CI_TOLERANCE", "RI_CI_MAX_STEPS", "RI_CI_P_TOLERANCE",
    "RI_CI_MAX_SE", "BOOTSTRAP_CI_TOLERANCE", "BOOTSTRAP_CI_MAX_SE", "IRLS_TOL", "FIXEF_TOL",
    "AUTOCORR_LAGS", "AUTOCORR_ALPHA",
    # interrupted time series
    "ITS_SIM_DRAWS", "ITS_PLACEBO_STARTS", "ITS_PLACEBO_MIN_AFTER", "ITS_HARMONICS_RANGE",
    "ITS_INFLUENCE_MAX_REFITS", "ITS_MDE_POWER", "ITS_MIN_PLACEBO_BLOCKS",
    "ITS_TARGET_PLACEBO_BLOCKS", "ITS_MIN_BLOCK_LENGTH",
    # difference-in-differences checks (RECENT_RISE_PERIODS: DiD and ITS)
    "DID_PLACEBO_FRACTIONS", "DID_PLACEBO_MIN_PERIODS", "RECENT_RISE_PERIODS",
    "PRETREND_MIN_POWER", "PRETREND_MBAR", "EVENT_STUDY_MAX_LOG_SE", "SEPARATION_RTOL",
    # Bayesian model: priors, sampler, reliability gates, prior checks
    "PRIOR_LOG_RR_SD", "PRIOR_SENSITIVITY_FACTORS", "PRIOR_SENSITIVITY_MAX_KHAT", "BAYES_CHAINS", "BAYES_DRAWS", "BAYES_TUNE",
    "BAYES_TARGET_ACCEPT", "RHAT_MAX", "ESS_MIN", "BAYES_MAX_DIVERGENCES", "BAYES_SAMPLER",
    "PRIOR_PERIOD_SD", "PRIOR_DISPERSION_EXCESS_SD", "PRIOR_INTERCEPT_SD", "PRIOR_TREND_SD",
    "PRIOR_SEASON_SD", "PRIOR_INV_SQRT_DISPERSION_SD", "PRIOR_POST_SHIFT_SD",
    "PRIOR_PREDICTIVE_DRAWS", "PRIOR_PREDICTIVE_QUANTILE", "PRIOR_PREDICTIVE_MAX_MULTIPLE",
    # Bayesian DiD with persistent local deviations (issue 13)
    "BAYES_DEVIATION_BLOCK_PERIODS", "PRIOR_DEVIATION_SD", "PRIOR_DEVIATION_RHO",
    "BAYES_ITS_LATENT_BLOCK_PERIODS", "PRIOR_ITS_LATENT_SD", "PRIOR_ITS_LATENT_RHO",
    # design checks that decide whether an analysis runs
    "MIN_PRE_PERIODS",
)

NOT_METHOD: dict[str, str] = {
    **dict.fromkeys(
        ("DATA_SOURCE", "FREQUENCY", "UNIT_COLUMN", "TIME_COLUMN", "OUTCOME", "MODEL",
         "ESTIMATOR", "CONTROL_GROUP", "INFERENCE", "TREND", "SEASONALITY", "SLOPE_CHANGE",
         "EVENT_WINDOW", "BAYESIAN", "ESTIMAND", "ALPHA", "SEED", "RANDOMIZATION_DRAWS", "DECISION_BASIS",
         "MIN_REDUCTION", "EXPECTED_REDUCTION", "CONTINUE_PROBABILITY", "STOP_PROBABILITY",
         "TARGET_TYPES", "OUTCOMES"),
        "a design field's default: filled into the design, covered by the design hash"),
    "FREQUENCIES": "the vocabulary of design.data.frequency (checked by the design schema)",
    "IMPORT_PROGRESS_BYTES": "when a progress bar is shown",
    **dict.fromkeys(("FIRST_PLAUSIBLE_DATE", "FUTURE_DAYS_ALLOWED", "POPULATION_MIN",
                     "POPULATION_MAX"),
                    "which rows the store accepts: covered by the data version and data hash"),
    "STORE_MEMORY_LIMIT": "DuckDB's memory budget for an import (speed, not numbers)",
    "DEMO_REGISTER_SIMS": "simulations of the demo designs' registered diagnoses (demo only)",
    "WARN_PRE_PERIODS": "a warning of `design check`, no number of an analysis",
    "LANGUAGE": "report language", "SUPPRESS_BELOW": "report display of small counts",
    "REPORT_FIGURE_DPI": "report figure resolution",
    **dict.fromkeys(("DIAGNOSE_SIMS", "DIAGNOSE_EFFECTS", "DIAGNOSE_POWER_TARGET"),
                    "the design diagnosis, which records its own settings"),
    "DEMO_SEED": "the synthetic demo data",
    **dict.fromkeys(("NATIONAL_TARGET_YEAR", "NATIONAL_BASELINE_YEAR", "NATIONAL_TARGET_REDUCTION",
                     "NATIONAL_PROJECTION_DRAWS"),
                    "the portfolio's national progress, not an intervention's analysis"),
}


def method_settings() -> dict[str, Any]:
    """The hashed settings: every method constant by name, and the logic revision."""
    values = {name: getattr(defaults, name) for name in METHOD_CONSTANTS}
    return {"logic_revision": LOGIC_REVISION, "constants": values}


def method_version() -> str:
    """Short SHA-256 (12 hex digits) of `method_settings()` as canonical JSON."""
    text = json.dumps(method_settings(), sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
