"""Two-way fixed-effects (unit and period) regressions of the outcome on the treatment indicator.

Count outcomes are fitted by Poisson pseudo-maximum likelihood (pyfixest `fepois`) with offset
log(exposure); `quasi_poisson` keeps that point estimate and scales the model-based errors by the
Pearson dispersion; `negative_binomial` is a statsmodels NB2 model with unit and period dummies
and an estimated alpha; `linear` is least squares with absorbed unit and period effects
(pyfixest `feols`; equal to linearmodels PanelOLS with entity and time effects).

Small-sample correction of cluster-robust (CRV1, clustered by unit) errors, for every model:
G/(G-1) * (N-1)/(N-K), with K counting every parameter, including both sets of fixed effects
(statsmodels' and Stata's convention with dummies; pyfixest ssc(k_adj=True, k_fixef="full")).
Model-based errors carry no correction (the inverse Fisher information, as statsmodels GLM).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

POISSON_MODELS = ("poisson", "quasi_poisson", "negative_binomial")
METHODS = {
    "poisson": "Poisson PPML, unit and period fixed effects",
    "quasi_poisson": "quasi-Poisson (Pearson dispersion), unit and period fixed effects",
    "negative_binomial": "negative binomial (NB2, estimated alpha), unit and period fixed effects",
    "linear": "linear two-way fixed effects (unit and period)",
}
# IRLS convergence: tight, so estimates are reproducible to far below any reported digit.
IRLS_TOL = 1e-10


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

    @property
    def scale(self) -> str:
        return "difference" if self.model == "linear" else "rate_ratio"

    def counterfactual(self, beta: float | None = None) -> np.ndarray:
        """Fitted values with the treatment effect removed (set to 0) on treated rows."""
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
    return frame


def n_params(frame: pd.DataFrame) -> int:
    """Treatment coefficient + unit effects + (period effects - 1): the rank of the dummy design."""
    return 1 + frame["unit"].nunique() + frame["t"].nunique() - 1


def crv1_factor(frame: pd.DataFrame, k: int) -> float:
    g = frame["unit"].nunique()
    n = len(frame)
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


def _fepois(formula: str, frame: pd.DataFrame, vcov):
    import pyfixest as pf

    with warnings.catch_warnings():
        # zero-only units/periods are removed before fitting (and reported); pyfixest's
        # separation warning would only repeat that.
        warnings.simplefilter("ignore")
        fit = pf.fepois(formula, data=frame, offset="log_exposure", vcov=vcov,
                        ssc=pf.ssc(k_adj=False, G_adj=False), iwls_tol=IRLS_TOL,
                        iwls_maxiter=100)
    if fit._N != len(frame):
        raise RuntimeError(f"pyfixest dropped {len(frame) - fit._N} rows; all-zero units/periods "
                           "must be removed before fitting")
    return fit


def _fit_poisson(frame: pd.DataFrame, *, model: str) -> TwfeFit:
    fit = _fepois("y ~ d | unit_id + t", frame, {"CRV1": "unit_id"})
    beta = float(fit.coef().iloc[0])
    k = n_params(frame)
    se_cluster = float(fit.se().iloc[0]) * np.sqrt(crv1_factor(frame, k))
    fit.vcov("iid")
    se_model = float(fit.se().iloc[0])
    mu = np.asarray(fit.predict(type="response"), dtype=float)
    y = frame["y"].to_numpy()
    dispersion = float(np.sum((y - mu) ** 2 / mu) / (len(frame) - k))
    if model == "quasi_poisson":
        se_model *= np.sqrt(dispersion)
    return TwfeFit(model=model, method=METHODS[model], beta=beta, se_model=se_model,
                   se_cluster=se_cluster, fitted=mu, frame=frame, n_params=k,
                   dispersion=dispersion)


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # maxiter=0 "fails to converge" by design
        plain = nb.fit(start_params=full, method="newton", maxiter=0, disp=False)
        clustered = nb.fit(start_params=full, method="newton", maxiter=0, disp=False,
                           cov_type="cluster", cov_kwds={"groups": groups,
                                                         "use_correction": False})
    sandwich = np.asarray(clustered.cov_params())[1, 1] * crv1_factor(frame, k)
    return TwfeFit(model="negative_binomial", method=METHODS["negative_binomial"],
                   beta=float(params[1]), se_model=float(np.asarray(plain.bse)[1]),
                   se_cluster=float(np.sqrt(sandwich)), fitted=mu, frame=frame,
                   n_params=k, dispersion=poisson.dispersion, nb_alpha=alpha)


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pf.feols("y ~ d | unit_id + t", data=frame, vcov="iid")
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
    se_cluster = float(np.sqrt(scores @ scores / sdd**2 * crv1_factor(frame, k)))
    fitted = frame["y"].to_numpy() - residual
    return TwfeFit(model="linear", method=METHODS["linear"], beta=beta, se_model=se_model,
                   se_cluster=se_cluster, fitted=fitted, frame=frame, n_params=k)


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols("y ~ 1 | unit_id + t", data=work)
        return work["y"].to_numpy() - np.asarray(fit.resid(), dtype=float)
    fit = _fepois("y ~ 1 | unit_id + t", work, "iid")
    return np.asarray(fit.predict(type="response"), dtype=float)
