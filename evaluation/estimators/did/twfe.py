"""Two-way fixed-effects (unit and period) regressions of the outcome on the treatment indicator.

Count outcomes are fitted by Poisson pseudo-maximum likelihood (pyfixest `fepois`) with offset
log(exposure); `quasi_poisson` keeps that point estimate and scales the model-based errors by the
Pearson dispersion; `negative_binomial` is a statsmodels NB2 model with unit and period dummies
and an estimated alpha; `linear` is least squares with absorbed unit and period effects
(pyfixest `feols`; equal to linearmodels PanelOLS with entity and time effects).

Small-sample correction of cluster-robust (CRV1, clustered by unit) errors, for every model:
G/(G-1) * (N-1)/(N-K), with K counting the treatment, the intercept and the period effects but
not the unit effects, which are nested in the unit clusters (fixest's and pyfixest's default,
so published fixest results are reproduced).
Model-based errors carry no correction (the inverse Fisher information, as statsmodels GLM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation.estimators.did.staggered_common import two_way_effects
from evaluation.estimators.fit_warnings import SEPARATION, Expected, recorded
from evaluation.estimators.stats import IRLS_TOL, demeaner, pearson_dispersion

# statsmodels' NB2 errors are read at the joint maximum with maxiter=0: "fails to converge" by design
NO_ITERATIONS = Expected(Warning, "converge", "maxiter=0 evaluates the information at the maximum found")

METHODS = {
    "poisson": "Poisson PPML, unit and period fixed effects",
    "quasi_poisson": "quasi-Poisson (Pearson dispersion), unit and period fixed effects",
    "negative_binomial": "negative binomial (NB2, estimated alpha), unit and period fixed effects",
    "linear": "linear two-way fixed effects (unit and period)",
}


@dataclass(frozen=True)
class TwfeFit:
    """One TWFE fit. `fitted` is on the response scale, aligned with `frame` rows."""

    model: str
    method: str
    beta: float
    se_model: float
    se_cluster: float
    fitted: np.ndarray
    frame: pd.DataFrame
    n_params: int
    dispersion: float | None = None
    nb_alpha: float | None = None
    fitted_untreated: np.ndarray | None = None  # set when `separated`
    # the library's own result object (pyfixest / statsmodels), for researchers (`result.fit`)
    model_result: Any = field(default=None, compare=False, repr=False)

    @property
    def scale(self) -> str:
        return "difference" if self.model == "linear" else "rate_ratio"

    @property
    def separated(self) -> bool:
        """No event in any treated cell after the start: the rate ratio estimate is 0."""
        return self.beta == -np.inf

    @property
    def separated_before(self) -> bool:
        """No event in any treated cell before the start (`did.before_start`): the estimate is
        +inf and the treated units' level without the intervention is unknown."""
        return self.beta == np.inf

    def counterfactual(self, beta: float | None = None) -> np.ndarray:
        """Fitted values with the treatment effect removed (set to 0) on treated rows.

        With `beta`, the counterfactual the observed data imply if the effect were `beta`.
        """
        if self.separated_before:
            return self.fitted_untreated  # unknown (NaN) on the treated units' rows
        if self.separated:
            # the fit of the untreated cells, predicted for the treated ones
            return self.fitted_untreated if beta is None else np.full(len(self.frame), np.nan)
        b = self.beta if beta is None else beta
        d = self.frame["d"].to_numpy(dtype=float)
        if self.model == "linear":
            return self.fitted - b * d
        return self.fitted * np.exp(-b * d)


def model_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns the regressions need, as a fresh frame (the caller's data is never touched)."""
    units = rows["unit"].astype(str).to_numpy()
    frame = pd.DataFrame({
        "unit": units,
        # integer codes for the fixed effects and clusters: pyfixest factorizes them far faster
        # than strings; `unit` keeps the names for everything else.
        "unit_id": pd.factorize(units)[0],
        "t": rows["t"].to_numpy(dtype=int),
        "y": rows["y"].to_numpy(dtype=float),
        "d": rows["d"].to_numpy(dtype=int),
        "log_exposure": np.log(rows["exposure"].to_numpy(dtype=float)),
    })
    # for the staggered estimators and the event study
    for column, dtype in (("cohort", int), ("treated_unit", bool)):
        if column in rows:
            frame[column] = rows[column].to_numpy(dtype=dtype)
    return frame


def n_params(frame: pd.DataFrame) -> int:
    """Treatment coefficient + unit effects + (period effects - 1): the rank of the dummy design."""
    return 1 + frame["unit"].nunique() + frame["t"].nunique() - 1


def crv1_factor(frame: pd.DataFrame, k: int | None = None) -> float:
    """G/(G-1) * (N-1)/(N-K), K without the unit effects (nested in the unit clusters).

    This is fixest's and pyfixest's default (ssc k_fixef="nonnested"), so published fixest
    results are reproduced. `k` overrides K (the number of non-nested parameters).
    """
    g = frame["unit"].nunique()
    n = len(frame)
    if k is None:
        k = n_params(frame) - (g - 1)  # treatment + intercept + period effects
    return g / (g - 1) * (n - 1) / (n - k)


def fit_twfe(frame: pd.DataFrame, *, model: str) -> TwfeFit:
    """Fit the TWFE regression `y ~ d | unit + t` of the given model family to `frame`."""
    if model in ("poisson", "quasi_poisson"):
        return _fit_poisson(frame, model=model)
    if model == "negative_binomial":
        return _fit_negative_binomial(frame)
    if model == "linear":
        return _fit_linear(frame)
    raise ValueError(f"unknown model {model!r}")


def fepois(formula: str, frame: pd.DataFrame, vcov):
    import pyfixest as pf

    # zero-only units/periods are removed before fitting (and reported); pyfixest's separation
    # warning would only repeat that. Any other warning is recorded (`fit_warnings`).
    with recorded(expected=(SEPARATION,)):
        fit = pf.fepois(formula, data=frame, offset="log_exposure", vcov=vcov,
                        ssc=pf.ssc(k_adj=False, G_adj=False), iwls_tol=IRLS_TOL,
                        iwls_maxiter=100, demeaner=demeaner())
    used = len(fit.resid())
    if used != len(frame):
        raise RuntimeError(f"pyfixest dropped {len(frame) - used} rows; all-zero units/periods "
                           "must be removed before fitting")
    return fit


def treated_post_events(frame: pd.DataFrame) -> float:
    return float(frame.loc[frame["d"].to_numpy() == 1, "y"].sum())


def _fit_separated(frame: pd.DataFrame, *, model: str) -> TwfeFit:
    """No event in any treated cell after the start: the maximum-likelihood effect is -inf.

    The other parameters' estimates are then those of the fit on the untreated cells alone,
    which also gives the counterfactual of the treated cells. Errors are undefined (NaN).
    """
    d = frame["d"].to_numpy() == 1
    untreated = frame.loc[~d].reset_index(drop=True)
    fit = fepois("y ~ 1 | unit_id + t", untreated, "iid")
    mu0 = np.empty(len(frame))
    mu0[~d] = np.asarray(fit.predict(type="response"), dtype=float)
    # The treated cells' counterfactual from the unit and period effects read off the in-sample
    # log means (exactly additive). Not pyfixest's predict(newdata=...): for a fepois model with
    # only fixed effects it exponentiates effects stored on the response scale (pyfixest issue
    # #1538), which inflated the separated counterfactual ("443.6 attacks averted", issue 14).
    link = np.log(mu0[~d]) - untreated["log_exposure"].to_numpy()
    alpha, gamma = two_way_effects(untreated["unit"], untreated["t"], link)
    treated_rows = frame.loc[d]
    mu0[d] = np.exp(treated_rows["unit"].map(alpha).to_numpy(dtype=float)
                    + treated_rows["t"].map(gamma).to_numpy(dtype=float)
                    + treated_rows["log_exposure"].to_numpy(dtype=float))
    k = n_params(frame)
    y = untreated["y"].to_numpy()
    dispersion = pearson_dispersion(y, mu0[~d], k - 1)
    fitted = np.where(d, 0.0, mu0)
    return TwfeFit(model=model, method=METHODS[model], beta=-np.inf, se_model=np.nan,
                   se_cluster=np.nan, fitted=fitted, frame=frame, n_params=k,
                   dispersion=dispersion, fitted_untreated=mu0)


def _fit_poisson(frame: pd.DataFrame, *, model: str) -> TwfeFit:
    if treated_post_events(frame) == 0:
        return _fit_separated(frame, model=model)
    fit = fepois("y ~ d | unit_id + t", frame, {"CRV1": "unit_id"})
    beta = float(fit.coef().iloc[0])
    k = n_params(frame)
    se_cluster = float(fit.se().iloc[0]) * np.sqrt(crv1_factor(frame))
    fit.vcov("iid")
    se_model = float(fit.se().iloc[0])
    mu = np.asarray(fit.predict(type="response"), dtype=float)
    y = frame["y"].to_numpy()
    dispersion = pearson_dispersion(y, mu, k)
    if model == "quasi_poisson":
        se_model *= np.sqrt(dispersion)
    return TwfeFit(model=model, method=METHODS[model], beta=beta, se_model=se_model,
                   se_cluster=se_cluster, fitted=mu, frame=frame, n_params=k,
                   dispersion=dispersion, model_result=fit)


def dummy_matrix(frame: pd.DataFrame, *, with_treatment: bool = True) -> np.ndarray:
    """Intercept, [treatment], unit and period dummies (first level of each dropped)."""
    units = pd.Categorical(frame["unit"])
    periods = pd.Categorical(frame["t"])
    parts = [np.ones((len(frame), 1))]
    if with_treatment:
        parts.append(frame[["d"]].to_numpy(dtype=float))
    parts.append(np.eye(len(units.categories))[units.codes][:, 1:])
    parts.append(np.eye(len(periods.categories))[periods.codes][:, 1:])
    return np.hstack(parts)


def _fit_negative_binomial(frame: pd.DataFrame) -> TwfeFit:
    import statsmodels.api as sm
    from scipy.optimize import minimize_scalar

    if treated_post_events(frame) == 0:
        return _fit_separated(frame, model="negative_binomial")

    x = dummy_matrix(frame)
    y = frame["y"].to_numpy()
    offset = frame["log_exposure"].to_numpy()
    poisson = _fit_poisson(frame, model="poisson")
    params = np.linalg.lstsq(x, np.log(poisson.fitted) - offset, rcond=None)[0]
    mu = poisson.fitted
    alpha = np.nan
    # Joint maximum likelihood by coordinate ascent: alpha by a 1-D search with the mean fixed,
    # then the mean by the statsmodels GLM with alpha fixed, until alpha settles. Each step
    # raises the likelihood, so this ends at the NB2 maximum (checked against statsmodels'
    # NegativeBinomial in the tests).
    for _ in range(50):
        found = minimize_scalar(lambda la, m=mu: -_nb2_loglik(y, m, np.exp(la)),
                                bounds=(-12.0, 5.0), method="bounded",
                                options={"xatol": 1e-10})
        new_alpha = float(np.exp(found.x))
        glm = sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=new_alpha), offset=offset)
        res = glm.fit(start_params=params, tol=1e-12, maxiter=100)
        params, mu = res.params, np.asarray(res.fittedvalues)
        if np.isfinite(alpha) and abs(np.log(new_alpha / alpha)) < 1e-8:
            break
        alpha = new_alpha
    alpha = new_alpha
    # Errors from statsmodels' NB2 likelihood at the joint maximum (observed information,
    # alpha included), as its NegativeBinomial model reports them; CRV1 from its scores.
    nb = sm.NegativeBinomial(y, x, offset=offset, loglike_method="nb2")
    full = np.append(params, alpha)
    groups = pd.factorize(frame["unit"])[0]
    k = x.shape[1] + 1
    with recorded(expected=(NO_ITERATIONS,)):
        plain = nb.fit(start_params=full, method="newton", maxiter=0, disp=False)
        clustered = nb.fit(start_params=full, method="newton", maxiter=0, disp=False,
                           cov_type="cluster", cov_kwds={"groups": groups,
                                                         "use_correction": False})
    # NB2's alpha is one more non-nested parameter
    sandwich = np.asarray(clustered.cov_params())[1, 1] * crv1_factor(
        frame, n_params(frame) - (frame["unit"].nunique() - 1) + 1)
    return TwfeFit(model="negative_binomial", method=METHODS["negative_binomial"],
                   beta=float(params[1]), se_model=float(np.asarray(plain.bse)[1]),
                   se_cluster=float(np.sqrt(sandwich)), fitted=mu, frame=frame,
                   n_params=k, dispersion=poisson.dispersion, nb_alpha=alpha,
                   model_result=clustered)


def _nb2_loglik(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    from scipy.special import gammaln

    r = 1.0 / alpha
    return float(np.sum(gammaln(y + r) - gammaln(r) - gammaln(y + 1)
                        + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu))))


def _fit_linear(frame: pd.DataFrame) -> TwfeFit:
    import pyfixest as pf

    # pyfixest rather than linearmodels PanelOLS: the same estimator (the tests check equality
    # with PanelOLS), but ~0.2 s instead of 1-15 s per fit on a national weekly panel, and the
    # checks refit it several times.
    with recorded():
        res = pf.feols("y ~ d | unit_id + t", data=frame, vcov="iid", demeaner=demeaner())
    beta = float(res.coef().iloc[0])
    residual = np.asarray(res.resid(), dtype=float)
    k = n_params(frame)
    n = len(frame)
    # Errors by Frisch-Waugh-Lovell on the residuals, so the degrees of freedom are exactly the
    # module's convention (libraries count absorbed effects in different ways).
    d_tilde = frame["d"].to_numpy(dtype=float) - fit_null(frame, model="linear",
                                                          y=frame["d"].to_numpy(dtype=float))
    sdd = float(d_tilde @ d_tilde)
    se_model = float(np.sqrt(residual @ residual / (n - k) / sdd))
    scores = pd.Series(d_tilde * residual).groupby(frame["unit"].to_numpy()).sum().to_numpy()
    se_cluster = float(np.sqrt(scores @ scores / sdd**2 * crv1_factor(frame)))
    fitted = frame["y"].to_numpy() - residual
    return TwfeFit(model="linear", method=METHODS["linear"], beta=beta, se_model=se_model,
                   se_cluster=se_cluster, fitted=fitted, frame=frame, n_params=k,
                   model_result=res)


def drop_all_zero_units(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Remove units whose outcome is zero in every estimation period.

    Their unit effect is -infinity under a log link: they carry no information on the rate
    ratio and would stop the fit. The caller reports the units removed.
    """
    total = frame.groupby("unit", sort=False)["y"].sum()
    zero = tuple(str(u) for u in total.index[total.to_numpy() == 0])
    if not zero:
        return frame, ()
    return frame.loc[~frame["unit"].isin(zero)].reset_index(drop=True), zero


def fit_null(frame: pd.DataFrame, *, model: str, y: np.ndarray) -> np.ndarray:
    """Fitted values of `y ~ 1 | unit + t` (no treatment term): the model under the null.

    Count models use the Poisson fit (the randomization statistic is a Poisson score, valid
    under randomization whatever the true variance); `linear` the least-squares projection.
    """
    import pyfixest as pf

    work = frame.assign(y=np.asarray(y, dtype=float))
    if model == "linear":
        with recorded():
            fit = pf.feols("y ~ 1 | unit_id + t", data=work, demeaner=demeaner())
        return work["y"].to_numpy() - np.asarray(fit.resid(), dtype=float)
    fit = fepois("y ~ 1 | unit_id + t", work, "iid")
    return np.asarray(fit.predict(type="response"), dtype=float)
