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
ALPHA = 0.05
SEED = 20250101
RANDOMIZATION_DRAWS = 1000

# --- design: decision block ------------------------------------------------------------------
MIN_REDUCTION = 0.10
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
# Ljung-Box test on ITS residuals: lags and level at which autocorrelation switches to HAC.
AUTOCORR_LAGS = 12
AUTOCORR_ALPHA = 0.05

# --- Bayesian (PyMC) ------------------------------------------------------------------------
# log rate ratio ~ Normal(0, 0.47): 95% of the prior mass on RR in about [0.4, 2.5].
PRIOR_LOG_RR_SD = 0.47
PRIOR_SENSITIVITY_FACTORS: tuple[float, ...] = (2.0, 0.5)
BAYES_CHAINS = 4
BAYES_DRAWS = 1000
BAYES_TUNE = 1000
BAYES_TARGET_ACCEPT = 0.9
RHAT_MAX = 1.01
ESS_MIN = 400
HDI_PROB = 0.95

# --- reports --------------------------------------------------------------------------------
LANGUAGE = "nl"
SUPPRESS_BELOW = 5  # neighbourhood counts below this are shown as "<5"

# --- diagnosis ------------------------------------------------------------------------------
DIAGNOSE_SIMS = 200
DIAGNOSE_EFFECTS: tuple[float, ...] = (-0.05, -0.10, -0.15, -0.20, -0.25, -0.30, -0.40, -0.50)
DIAGNOSE_POWER_TARGET = 0.80

# --- demo data ------------------------------------------------------------------------------
DEMO_SEED = 20240101
