"""Every default of the framework, in one place.

A design file may omit any field that has a default here; the registered hash covers the design
with these defaults filled in, so changing a default later is a visible change to every design
hash, never a silent one.
"""

from __future__ import annotations

# --- incident vocabulary -------------------------------------------------------------------
TARGET_TYPES: tuple[str, ...] = ("woning", "bedrijf", "voertuig", "overig")
OUTCOMES: tuple[str, ...] = ("explosie", "poging")
FREQUENCIES: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
# Incident files above this size (about 200,000 rows, some 2 s to import) get a progress bar.
IMPORT_PROGRESS_BYTES = 20_000_000
# DuckDB's memory while importing: larger files spill to `<store>.tmp/` instead of growing the
# process (a million incident rows stay at about 330 MB in all, Python included).
STORE_MEMORY_LIMIT = "200MB"
# Plausible incident dates: from this day up to tomorrow (a delivery made late in the evening
# may carry tomorrow's date in another time zone); any other date is quarantined.
FIRST_PLAUSIBLE_DATE = "1990-01-01"
FUTURE_DAYS_ALLOWED = 1
# Plausible population of one municipality (the smallest Dutch one, Schiermonnikoog, has about
# 950 inhabitants; the largest, Amsterdam, about 930,000): outside this range a number was misread.
POPULATION_MIN = 500
POPULATION_MAX = 1_500_000

# --- design: data block ----------------------------------------------------------------------
DATA_SOURCE = "store"
FREQUENCY = "week"
UNIT_COLUMN = "unit"
TIME_COLUMN = "period"
OUTCOME = "attacks"

# --- design: analysis block ------------------------------------------------------------------
MODEL = "poisson"
ESTIMATOR = "auto"
CONTROL_GROUP = "never_treated"
INFERENCE = "auto"
TREND = True
SEASONALITY = 2
SLOPE_CHANGE = False
EVENT_WINDOW: tuple[int, int] = (-8, 8)
BAYESIAN = False
ESTIMAND = "during"  # with treatment.end: the verdict concerns the intervention period
ALPHA = 0.05
SEED = 20250101
RANDOMIZATION_DRAWS = 1000

# --- design: decision block ------------------------------------------------------------------
# Which analysis supplies the rule's two quantities: the registered primary (frequentist)
# analysis, as confidence from its own inference, or the Bayesian model's posterior.
DECISION_BASIS = "primary"
MIN_REDUCTION = 0.10
# The reduction hoped for: the diagnosis reports the rule's verdicts at this effect too.
EXPECTED_REDUCTION = 0.20
CONTINUE_PROBABILITY = 0.80
STOP_PROBABILITY = 0.50

# --- design checks ---------------------------------------------------------------------------
MIN_PRE_PERIODS = 8  # fewer is an error
WARN_PRE_PERIODS = 20  # fewer is a warning

# --- inference ------------------------------------------------------------------------------
# Below this many treated clusters, cluster-robust errors over-reject; use randomization.
RI_MIN_CLUSTERS = 10
# Enumerate every assignment exactly when there are at most this many.
RI_EXACT_MAX = 5000
# Randomization-inference interval search: an end is known to within RI_CI_TOLERANCE standard
# errors (0.02 se is ~0.3% on a rate ratio with se 0.15) or RI_CI_P_TOLERANCE in p (finer than
# the Monte Carlo error of p with 1,000 draws), after at most RI_CI_MAX_STEPS refinements; an
# end beyond RI_CI_MAX_SE standard errors is reported as unbounded.
RI_CI_TOLERANCE = 0.02
RI_CI_MAX_STEPS = 8
RI_CI_P_TOLERANCE = 0.003
RI_CI_MAX_SE = 64.0
# Wild cluster bootstrap interval search: ends to within this share of the standard error.
BOOTSTRAP_CI_TOLERANCE = 0.01
BOOTSTRAP_CI_MAX_SE = 64.0
# Convergence tolerance of the iteratively reweighted least-squares fits (pyfixest fepois); the
# published reproductions (castle doctrine, Sicily) agree to the digits shown at this tolerance.
IRLS_TOL = 1e-10
# Pre-trend test (issue 14): a passed test counts as evidence of parallel trends (evidence level
# 3) only with at least this power against a trend that would move the estimate by the minimum
# reduction, or when the relative-magnitudes bound (post-period violations up to PRETREND_MBAR
# times the largest pre-period deviation; Rambachan & Roth 2023) still excludes no effect.
PRETREND_MIN_POWER = 0.80
PRETREND_MBAR = 1.0
# An event-study coefficient whose standard error (log scale, or difference in outcome standard
# deviations) exceeds this is not identified by the data (e.g. a unit level fixed only by the
# lead it is compared with): reported as not estimable, never as a number.
EVENT_STUDY_MAX_LOG_SE = 5.0
# Separation (no event in the treated units after the start): the exact conditional interval's
# upper end is found to this relative precision.
SEPARATION_RTOL = 1e-10
# Convergence of pyfixest's fixed-effects demeaning (alternating projections). pyfixest orders the
# fixed effects of `| unit + t` through a Python set, so the projection order follows the hash
# seed; at pyfixest's default tolerance standard errors then differ between processes in the
# 10th digit. At 1e-12 they agree to ~1e-14 relative, below the 12 significant digits stored.
FIXEF_TOL = 1e-12
# Ljung-Box test on ITS residuals: lags and level at which autocorrelation switches to HAC.
AUTOCORR_LAGS = 12
AUTOCORR_ALPHA = 0.05
# ITS: coefficient draws for the averted-attacks interval; checks' placebo starts and harmonics.
ITS_SIM_DRAWS = 2000
# ITS minimum detectable effect: the power at which the smallest detectable reduction is quoted.
ITS_MDE_POWER = 0.8
# ITS placebo-block inference: fewer non-overlapping pre-period blocks of the post-period's length
# than this (a t test on J - 1 df) and the design cannot answer: the analysis refuses the inference.
ITS_MIN_PLACEBO_BLOCKS = 3
# ... and the blocks are shortened below the post-period's length to give at least this many.
ITS_TARGET_PLACEBO_BLOCKS = 4
ITS_MIN_BLOCK_LENGTH = 8  # ... and a block shorter than this cannot carry a shock lasting weeks
ITS_PLACEBO_STARTS = 4  # evenly spaced placebo start dates in the pre-period
ITS_PLACEBO_MIN_AFTER = 4  # pre-periods a placebo start must leave after it
ITS_HARMONICS_RANGE: tuple[int, ...] = (0, 1, 2, 3)  # Fourier pairs tried in the sensitivity check
# Longer series get leave-one-out refits only for this many periods, the most influential by a
# one-step (DFBETA) approximation: five years of weeks are all refitted.
ITS_INFLUENCE_MAX_REFITS = 260
# DiD placebo check: placebo start dates at these shares of the pre-period, each leaving at
# least DID_PLACEBO_MIN_PERIODS periods before and after it.
DID_PLACEBO_FRACTIONS: tuple[float, ...] = (1 / 3, 1 / 2, 2 / 3)
DID_PLACEBO_MIN_PERIODS = 4
# Recent-rise check of DiD and ITS (issue 13): units or a series picked for a pilot after a run
# of attacks fall back afterwards whatever the intervention does (regression to the mean). The
# last this-many periods before the start (about two months) are tested against the rest of the
# pre-period; a significant rise in the treated units (DiD) or the series (ITS) blocks the
# verdict. Calibrated in docs/calibration_did.md (DiD) and tests/test_its_recent_rise.py (ITS).
RECENT_RISE_PERIODS: dict[str, int] = {"day": 56, "week": 8, "month": 2, "quarter": 1,
                                       "year": 1}

# --- Bayesian (PyMC) ------------------------------------------------------------------------
# log rate ratio ~ Normal(0, 0.47): 95% of the prior mass on RR in about [0.4, 2.5].
PRIOR_LOG_RR_SD = 0.47
# Prior sensitivity: refits with the effect prior's SD times these factors; the conclusion is
# prior-sensitive when the registered rule gives another verdict category under either.
PRIOR_SENSITIVITY_FACTORS: tuple[float, ...] = (2.0, 0.5)
# Each alternative prior is first tried by Pareto-smoothed importance reweighting of the main
# posterior (only the effect prior changes, so the weights are a ratio of two normal densities);
# above this Pareto k-hat the model is sampled again under that prior. 0.5, not PSIS's usual
# 0.7: between the two the probabilities are still right but the HDI's far end is drawn in
# (tests/test_bayes_sensitivity.py: 0.145 against 0.120 at k-hat 0.63).
PRIOR_SENSITIVITY_MAX_KHAT = 0.5
BAYES_CHAINS = 4
# Draws per chain, by design. DiD: thousands of deviations are gated, and at 1,000 draws the
# largest R-hat sat at 1.007-1.011 (bar 1.01) on the demo designs and the national panel; 1,500
# draws after 500 tuning steps cost what 1,000 after 1,000 did. ITS: the latent process' spread
# and the counts' overdispersion share the same weekly noise and mix slowly; at 1,000 draws 11
# of 30 calibration series missed an ESS or R-hat gate, at 2,000 2 of 40 (docs/calibration_its.md)
# and both controlled demo designs (R-hat 1.012 on the spread); at 4,000 both pass (1.009, 1.004).
BAYES_DRAWS: dict[str, int] = {"did": 1500, "its": 4000}
# Tuning iterations per chain, by sampler: nutpie adapts its mass matrix from gradients as well
# as draws and needs fewer (its own default is 300); on the national panel 500 and 1,000 gave
# the same step sizes (0.14-0.17), tree depth (5) and smallest ESS (418-543), so the iterations
# go into draws instead (benchmarks/README.md). PyMC's windowed adaptation keeps its default.
BAYES_TUNE: dict[str, int] = {"nutpie": 500, "pymc": 1000}
# Target acceptance by design: the ITS' latent AR(1) process, where a week's count informs its
# deviation about as much as the prior does, has a narrow neck where its spread nears zero; at
# 0.95, 15 of 40 calibration fits had divergent transitions, at 0.99 none of 40
# (docs/calibration_its.md).
BAYES_TARGET_ACCEPT: dict[str, float] = {"did": 0.9, "its": 0.99}
RHAT_MAX = 1.01
ESS_MIN = 400
BAYES_MAX_DIVERGENCES = 0  # any divergence makes a fit unreliable
# Sampler: "auto" uses nutpie when installed (much faster), else PyMC's own NUTS.
BAYES_SAMPLER = "auto"
# Further weakly informative priors (all on the log-rate scale unless stated). Period effects
# sum to zero, so they only describe the shape over time; the level comes from the data.
PRIOR_PERIOD_SD = 1.0  # DiD period effects: ZeroSumNormal(1): a period 0.14x..7x the average
PRIOR_DISPERSION_EXCESS_SD = 1.0  # NB DiD: dispersion - 1 ~ HalfNormal(1) (variance / mean)
PRIOR_INTERCEPT_SD = 1.0  # ITS: level within ~0.14x..7x of the observed mean rate
PRIOR_TREND_SD = 0.5  # ITS: log-rate change over the whole window, before the start
PRIOR_SEASON_SD = 0.3  # ITS: each Fourier coefficient
PRIOR_INV_SQRT_DISPERSION_SD = 0.5  # NB: 1/sqrt(alpha) ~ HalfNormal(0.5); 0 is Poisson
PRIOR_POST_SHIFT_SD = 0.47  # controlled ITS: common shift of both series at the start
# DiD persistent local deviations (estimators.bayes.did_deviations): one deviation per unit and
# block of periods (a quarter), AR(1) across blocks. Spread: HalfNormal(0.5) on the log rate
# (a quarter 0.4x..2.7x the unit's usual rate is within the prior's 95%); persistence per block
# Beta(2, 2) (centred on 0.5, from none to almost permanent).
BAYES_DEVIATION_BLOCK_PERIODS: dict[str, int] = {"day": 91, "week": 13, "month": 3,
                                                 "quarter": 1, "year": 1}
PRIOR_DEVIATION_SD = 0.5
PRIOR_DEVIATION_RHO: tuple[float, float] = (2.0, 2.0)
# ITS persistent deviations (estimators.bayes.its_model): a latent AR(1) process on each series'
# log rate, one value per block of periods (a week for daily data, else a period), so a shock
# that lasts is one deviation carried forward, not a run of independent surprises. Spread is the
# process's marginal sd on the log rate, HalfNormal(0.3) (below 0.59 with 95% prior probability:
# one sd then moves a period's rate 0.55x..1.8x); persistence per block Beta(2, 2) as for the DiD.
BAYES_ITS_LATENT_BLOCK_PERIODS: dict[str, int] = {"day": 7, "week": 1, "month": 1,
                                                  "quarter": 1, "year": 1}
PRIOR_ITS_LATENT_SD = 0.3
PRIOR_ITS_LATENT_RHO: tuple[float, float] = (2.0, 2.0)
# Prior predictive check: the prior's 99th percentile of a period's count must stay below this
# multiple of the observed maximum (otherwise the priors allow implausible counts).
PRIOR_PREDICTIVE_DRAWS = 500
PRIOR_PREDICTIVE_QUANTILE = 0.99
PRIOR_PREDICTIVE_MAX_MULTIPLE = 10.0

# --- reports --------------------------------------------------------------------------------
LANGUAGE = "nl"
SUPPRESS_BELOW = 5  # neighbourhood counts below this are shown as "<5"

# --- diagnosis ------------------------------------------------------------------------------
DIAGNOSE_SIMS = 200
DIAGNOSE_EFFECTS: tuple[float, ...] = (-0.05, -0.10, -0.15, -0.20, -0.25, -0.30, -0.40, -0.50)
DIAGNOSE_POWER_TARGET = 0.80

# --- demo data ------------------------------------------------------------------------------
DEMO_SEED = 20240101
# Simulations per design diagnosis when the demo designs are registered (`make register-demo`):
# power to within about +-7 percentage points (Monte Carlo error at 50% power: sqrt(.25/50)), and
# all eight designs registered in about 8 minutes on one core (the two staggered designs use the
# general estimator path, about 4 s per simulation of all effects).
DEMO_REGISTER_SIMS = 50

# --- portfolio: national progress (H7) --------------------------------------------------------
NATIONAL_TARGET_YEAR = 2025
NATIONAL_BASELINE_YEAR = 2024
NATIONAL_TARGET_REDUCTION = 0.10  # the national aim: 10% fewer attacks than the baseline year
NATIONAL_PROJECTION_DRAWS = 20000  # Monte Carlo draws for the projected year total
REPORT_FIGURE_DPI = 110
