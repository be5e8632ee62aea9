"""Randomization inference for few treated units.

With one to a handful of treated municipalities, cluster-robust errors rest on a handful of
clusters and reject a true null far too often. Randomization inference instead asks: had the
intervention gone to other units (as many, with the same start dates), how often would the
statistic be as extreme as the one observed?

Statistic: the standardized score of the treatment coefficient under the null model
`y ~ 1 | unit + period` (Poisson with offset log(exposure) for count models, least squares for
`linear`): T = sum over treated post cells of (y - mu0) / sqrt(sum of the null variance mu0)
(variance 1 per cell for `linear`). The null model is fitted once; every re-assignment is then a
sum over a precomputed table, so 1,000 draws cost one regression.

p-value: two-sided and equal-tailed, twice the smaller one-sided p-value (at most 1), where the
lower one is the share of assignments with T <= T_observed and the upper one the share with
T >= T_observed. (The permutation distribution of T is skewed: a few large units with spikes give
large positive T. The share with |T| >= |T_observed| would count those against a reduction and
disagree with the one-sided confidence the decision rule reads.) Assignments are enumerated
exactly when there are at most defaults.RI_EXACT_MAX of them (the observed one among them);
otherwise `randomization_draws` are sampled from numpy's Generator(seed) and each one-sided
p = (1 + #{...}) / (1 + draws).
Interval: the set of effects beta0 not rejected at level alpha, where the sharp null "the
effect is beta0" is tested by removing it from the treated cells (y * exp(-beta0) for counts,
y - beta0 for `linear`), refitting the null model, and re-evaluating every assignment: the
equal-tailed interval of the confidence distribution below.
Confidence (the decision rule's quantities): the same test of the sharp null beta0, one-sided:
confidence that the effect lies below beta0 is 1 - the one-sided mid-p-value, the share of
assignments with T_k > T_observed plus half the ties (the observed assignment is one of the
ties). Read over beta0 this is a confidence distribution of the effect (test inversion);
`thresholds` names the beta0 at which the rule needs it (no effect, the minimum reduction).
With sampled assignments it carries its Monte Carlo error sqrt(c (1 - c) / draws). The interval
end beyond which the effect lies with confidence 1 - alpha/2 is where the (not mid-) one-sided
p-value reaches alpha/2: the interval and the confidence agree up to the half tie.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.estimators.did.twfe import fit_null

# The interval search's tolerances (see defaults: they are part of the method version).
CI_TOLERANCE = defaults.RI_CI_TOLERANCE
CI_MAX_STEPS = defaults.RI_CI_MAX_STEPS
CI_P_TOLERANCE = defaults.RI_CI_P_TOLERANCE
CI_MAX_SE = defaults.RI_CI_MAX_SE


@dataclass(frozen=True)
class Assignments:
    """Re-assignments of treatment: unit index per treated slot, each slot with its cohort."""

    units: np.ndarray  # (n_assignments, n_treated) indices into `unit_names`
    cohorts: np.ndarray  # (n_treated,) first treated t of each slot
    unit_names: tuple[str, ...]
    observed: np.ndarray  # (n_treated,) indices of the actual treated units
    exact: bool

    @property
    def size(self) -> int:
        return len(self.units)


@dataclass(frozen=True)
class PermutationTest:
    """The randomization test of one sharp null `effect = beta0`."""

    p_value: float  # two-sided, equal-tailed: 2 x the smaller one-sided p-value (at most 1)
    statistic: float  # T observed
    below: float  # confidence that the effect lies below beta0: 1 - one-sided mid-p
    below_mcse: float  # Monte Carlo error of `below`; 0 when every assignment is enumerated


@dataclass(frozen=True)
class RandomizationResult:
    p_value: float
    ci_low: float  # on the coefficient scale (log rate ratio, or difference)
    ci_high: float
    statistic: float
    draws: int
    exact: bool
    n_assignments_possible: int
    # threshold name -> the PermutationTest at that beta0 (see the module docstring)
    at_thresholds: dict[str, PermutationTest] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"draws": self.draws, "exact": self.exact, "statistic": self.statistic,
                "assignments_possible": self.n_assignments_possible}


def count_assignments(n_units: int, cohort_sizes: list[int]) -> int:
    """Number of ways to give each cohort its number of units: a multinomial coefficient."""
    total, left = 1, n_units
    for size in cohort_sizes:
        total *= math.comb(left, size)
        left -= size
    return total


def make_assignments(*, unit_names: tuple[str, ...], treated: dict[str, int], draws: int,
                     seed: int, exact_max: int = defaults.RI_EXACT_MAX) -> Assignments:
    """Exact enumeration when small enough, else `draws` random assignments (fixed seed)."""
    order = sorted(treated, key=lambda u: (treated[u], u))
    cohorts = np.array([treated[u] for u in order], dtype=int)
    index = {u: i for i, u in enumerate(unit_names)}
    observed = np.array([index[u] for u in order], dtype=int)
    sizes = [int(n) for _, n in sorted(pd.Series(cohorts).value_counts().items())]
    n_possible = count_assignments(len(unit_names), sizes)
    n = len(unit_names)
    if n_possible <= exact_max:
        rows = [list(r) for r in _enumerate(list(range(n)), sizes)]
        return Assignments(units=np.array(rows, dtype=int), cohorts=cohorts,
                           unit_names=unit_names, observed=observed, exact=True)
    rng = np.random.default_rng(seed)
    keys = rng.random((draws, n))
    units = np.argsort(keys, axis=1)[:, : len(order)]
    return Assignments(units=units, cohorts=cohorts, unit_names=unit_names, observed=observed,
                       exact=False)


def _enumerate(pool: list[int], sizes: list[int]):
    if not sizes:
        yield ()
        return
    for combo in itertools.combinations(pool, sizes[0]):
        rest = [u for u in pool if u not in combo]
        for tail in _enumerate(rest, sizes[1:]):
            yield combo + tail


class ScoreTable:
    """Tail sums of score and variance per unit and start period, for fast re-assignment."""

    def __init__(self, frame: pd.DataFrame, unit_names: tuple[str, ...], resid: np.ndarray,
                 var: np.ndarray, n_periods: int) -> None:
        rows = pd.Categorical(frame["unit"], categories=list(unit_names)).codes
        t = frame["t"].to_numpy(dtype=int)
        a = np.zeros((len(unit_names), n_periods + 1))
        b = np.zeros((len(unit_names), n_periods + 1))
        np.add.at(a, (rows, t), resid)
        np.add.at(b, (rows, t), var)
        # column c holds the sum over t >= c: a reversed cumulative sum
        self.a, self.b = studentised_tails(np.cumsum(a[:, ::-1], axis=1)[:, ::-1],
                                           np.cumsum(b[:, ::-1], axis=1)[:, ::-1])

    def statistic(self, units: np.ndarray, cohorts: np.ndarray) -> np.ndarray:
        num = self.a[units, cohorts].sum(axis=-1)
        den = self.b[units, cohorts].sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
        return out


def unit_variance_excess(resid_tail: np.ndarray, var_tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per start column c: each unit's null variance V of its summed residual from c on, and
    the common excess kappa of the variance model Var = V + kappa V^2 (see studentised_tails).

    V = E_c (1 - E_c / E_0), E_c the null mean from c on: the Poisson variance of the count
    from c on given the unit's total, which the unit effect of the null fit matches.
    kappa = max(0, sum(D^2 - V) / sum(V^2)) over the units, D the summed residual: the
    moment estimator of the variance that grows with the square of the unit's size
    (persistent local deviations and overdispersion multiply a unit's rate).
    """
    total = var_tail[:, :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, var_tail / np.where(total > 0, total, 1.0), 0.0)
    v = var_tail * (1.0 - share)
    excess = (resid_tail**2 - v).sum(axis=0)
    square = (v**2).sum(axis=0)
    kappa = np.where(square > 0, np.maximum(excess, 0.0) / np.where(square > 0, square, 1.0), 0.0)
    return v, kappa


def studentised_tails(resid_tail: np.ndarray, var_tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The score table with a size-robust working variance: (D / (1 + kappa V), V / (1 + kappa V)).

    The plain score statistic sum D / sqrt(sum E) assumes Poisson variance. Persistent local
    shocks and overdispersion make a unit's summed residual vary like V + kappa V^2: for a
    large city the kappa V^2 term dominates, so its plain score is far more variable than a
    small town's and re-assigning treatment to small towns understates the spread of a
    statistic dominated by large treated cities (the test rejects a true null too often:
    the heteroskedasticity problem of Ferman & Pinto 2019). Each unit's term here is weighted by
    the inverse of its working variance (the quasi-score with that variance), and the sum of
    the weights is the variance of the weighted sum, so sum num / sqrt(sum den) has variance
    one whichever units are treated. With kappa = 0 it is the plain score statistic.
    """
    v, kappa = unit_variance_excess(resid_tail, var_tail)
    weight = 1.0 / (1.0 + kappa[None, :] * v)
    return resid_tail * weight, v * weight


def null_residuals(frame: pd.DataFrame, *, model: str):
    """A function beta0 -> (y0 - mu0, null variance) per row, y0 the outcome without the effect.

    Linear: the least-squares residual is linear in beta0, so two projections serve every
    beta0. Counts: one Poisson fit per beta0.
    """
    y = frame["y"].to_numpy(dtype=float)
    d = frame["d"].to_numpy(dtype=float)
    if model == "linear":
        y_res = y - fit_null(frame, model=model, y=y)
        d_res = d - fit_null(frame, model=model, y=d)
        ones = np.ones_like(y)
        return lambda beta0: (y_res - beta0 * d_res, ones)
    has_events = pd.Series(y).groupby(frame["unit"].to_numpy()).transform("sum").to_numpy() > 0
    fit_rows = frame.loc[has_events].reset_index(drop=True)

    def at(beta0: float) -> tuple[np.ndarray, np.ndarray]:
        # units with no events keep mu0 = 0: they carry no information (their effect is -inf)
        # zeros stay zeros (and are kept finite for extreme beta0 in the interval search)
        with np.errstate(over="ignore"):
            y0 = np.where(y > 0, y * np.exp(-beta0 * d), 0.0)
        mu0 = np.zeros_like(y)
        if beta0 == 0.0:
            mu0[has_events] = _null_at_zero(fit_rows, model)
        else:
            mu0[has_events] = fit_null(fit_rows, model=model, y=y0[has_events])
        return y0 - mu0, mu0

    return at


_NULL_CACHE: dict[tuple, np.ndarray] = {}
_NULL_CACHE_SIZE = 8


def _null_at_zero(rows: pd.DataFrame, model: str) -> np.ndarray:
    """The null fit of the observed outcome; it does not depend on who is treated, so the
    placebo dates of one pre-period share it (memoised on the data it depends on)."""
    key = (model, rows["y"].to_numpy().tobytes(), rows["t"].to_numpy().tobytes(),
           rows["log_exposure"].to_numpy().tobytes(), rows["unit_id"].to_numpy().tobytes())
    if key not in _NULL_CACHE:
        if len(_NULL_CACHE) >= _NULL_CACHE_SIZE:
            _NULL_CACHE.pop(next(iter(_NULL_CACHE)))
        _NULL_CACHE[key] = fit_null(rows, model=model, y=rows["y"].to_numpy(dtype=float))
    return _NULL_CACHE[key].copy()


def permutation_test(t_obs: float, t_all: np.ndarray, *, exact: bool) -> PermutationTest:
    """Two-sided (equal-tailed) p-value and one-sided confidence from the statistic over the
    assignments.

    Exact: `t_all` holds every assignment, the observed one among them. Sampled: `t_all` are
    the draws; the observed assignment is added, as one more assignment: one-sided
    p = (1 + #{T_k <= T_obs}) / (1 + draws) (and >=), confidence = (#above + (#ties + 1) / 2)
    / (1 + draws).
    """
    # a relative tolerance so ties are counted as ties despite floating-point noise
    tie = np.abs(t_all - t_obs) <= 1e-10 * abs(t_obs)
    above = (t_all > t_obs) & ~tie
    below = (t_all < t_obs) & ~tie
    n_tie = float(tie.sum()) + (0.0 if exact else 1.0)
    n = len(t_all) + (0 if exact else 1)
    lower, upper = (below.sum() + n_tie) / n, (above.sum() + n_tie) / n
    confidence = (above.sum() + 0.5 * n_tie) / n
    mcse = 0.0 if exact else math.sqrt(confidence * (1 - confidence) / len(t_all))
    return PermutationTest(p_value=float(min(1.0, 2 * min(lower, upper))), statistic=t_obs,
                           below=float(confidence), below_mcse=mcse)


def sharp_null_test(residuals_at, table_of, assignments: Assignments, beta0: float) -> PermutationTest:
    """The randomization test of the sharp null `effect = beta0`."""
    table = table_of(*residuals_at(beta0))
    t_obs = float(table.statistic(assignments.observed[None, :], assignments.cohorts)[0])
    t_all = table.statistic(assignments.units, assignments.cohorts)
    return permutation_test(t_obs, t_all, exact=assignments.exact)


def p_value_at(residuals_at, table_of, assignments: Assignments, beta0: float) -> tuple[float, float]:
    """Two-sided randomization p-value of the sharp null `effect = beta0`, and T observed."""
    test = sharp_null_test(residuals_at, table_of, assignments, beta0)
    return test.p_value, test.statistic


def randomization_inference(frame: pd.DataFrame, *, model: str, treated: dict[str, int],
                            beta_hat: float, se_hint: float, draws: int, seed: int,
                            alpha: float, n_periods: int,
                            exact_max: int = defaults.RI_EXACT_MAX,
                            interval: bool = True,
                            thresholds: dict[str, float] | None = None) -> RandomizationResult:
    """p-value at 0 and the interval by test inversion around the point estimate `beta_hat`.

    `frame`: model frame (unit, t, y, d, log_exposure) of all eligible units; `treated`: the
    actual treated units -> first treated t; `se_hint`: a scale for the search (any error);
    `thresholds`: name -> beta0 at which to test one-sided too (the confidence of the rule).
    """
    unit_names = tuple(dict.fromkeys(frame["unit"]))
    assignments = make_assignments(unit_names=unit_names, treated=treated, draws=draws,
                                   seed=seed, exact_max=exact_max)
    sizes = [int(n) for n in pd.Series(list(treated.values())).value_counts().sort_index()]
    n_possible = count_assignments(len(unit_names), sizes)
    residuals_at = null_residuals(frame, model=model)

    def table_of(resid: np.ndarray, var: np.ndarray) -> ScoreTable:
        return ScoreTable(frame, unit_names, resid, var, n_periods)

    known: dict[float, PermutationTest] = {0.0: sharp_null_test(residuals_at, table_of, assignments, 0.0)}

    def tested(b: float) -> PermutationTest:
        # each new beta0 costs a model fit; both interval ends start from beta_hat
        if b not in known:
            known[b] = sharp_null_test(residuals_at, table_of, assignments, b)
        return known[b]

    def p_at(b: float) -> float:
        return tested(b).p_value

    p0, t0 = known[0.0].p_value, known[0.0].statistic
    at_thresholds = {name: tested(float(b)) for name, b in (thresholds or {}).items()
                     if b is not None and math.isfinite(b)}

    scale = se_hint if np.isfinite(se_hint) and se_hint > 0 else 0.1
    low = high = float("nan")
    if interval and np.isfinite(beta_hat) and p_at(beta_hat) > alpha:
        low = _interval_end(p_at, beta_hat, -scale, alpha)
        high = _interval_end(p_at, beta_hat, scale, alpha)
    return RandomizationResult(p_value=p0, ci_low=low, ci_high=high, statistic=t0,
                               draws=assignments.size, exact=assignments.exact,
                               n_assignments_possible=n_possible, at_thresholds=at_thresholds)


def _interval_end(p_at, start: float, step: float, alpha: float) -> float:
    """Where p(beta0) falls to alpha, walking out from `start` by `step`, then narrowing.

    Each evaluation is a model fit, so the bracket is narrowed by the secant on the normal
    scale z = Phi^-1(1 - p/2), on which p(beta0) is close to linear. The search stops when an
    evaluation is not rejected but within CI_P_TOLERANCE above alpha (finer than the Monte
    Carlo error of p with 1,000 draws), when the bracket is narrower than CI_TOLERANCE standard errors, or after
    CI_MAX_STEPS refinements.
    """
    from scipy.stats import norm

    def z(p: float) -> float:
        return float(norm.isf(min(max(p, 1e-6), 1.0) / 2))

    inside, k = start, 2.0
    while True:
        outside = start + k * step
        p_out = p_at(outside)
        if p_out <= alpha:
            break
        inside = outside
        k *= 2
        if k > CI_MAX_SE:
            return float("inf") if step > 0 else float("-inf")
    target = z(alpha)
    z_in, z_out = z(p_at(inside)), z(p_out)
    for _ in range(CI_MAX_STEPS):
        if abs(outside - inside) <= CI_TOLERANCE * abs(step):
            break
        frac = (target - z_in) / (z_out - z_in) if z_out != z_in else 0.5
        frac = min(max(frac, 0.1), 0.9)  # stay well inside the bracket
        mid = inside + frac * (outside - inside)
        p_mid = p_at(mid)
        if alpha < p_mid <= alpha + CI_P_TOLERANCE:
            return mid  # not rejected, and as close to the boundary as the draws resolve
        if p_mid > alpha:
            inside, z_in = mid, z(p_mid)
        else:
            outside, z_out = mid, z(p_mid)
    return 0.5 * (inside + outside)
