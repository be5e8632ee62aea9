"""Imputation estimator (Borusyak, Jaravel & Spiess 2024) for counts and linear outcomes.

1. Fit the untreated-outcome model, unit + period fixed effects (Poisson PPML with offset
   log(exposure) for counts, via pyfixest; least squares for linear outcomes), on untreated
   observations only. `not_yet_treated`: every untreated observation (never-treated units and
   treated units before their start). `never_treated`: period effects from never-treated units
   only; each treated unit's own level from its pre-period given those period effects.
2. Impute the untreated outcome mu0 of every treated observation from those effects.
3. Counts: rate ratio = sum(y) / sum(mu0) over treated observations (estimate = its log);
   linear: mean(y - mu0).

Standard errors come from the stacked estimating equations (the fixed-effects scores and the
effect equation), so the uncertainty of the imputed counterfactual is included: cluster-robust
by unit with factor G/(G-1), or model-based (Poisson variance, times the Pearson dispersion for
quasi-Poisson; mu(1 + kappa mu) for the negative binomial; sigma^2 for linear) when the design
says `inference: model`.

A treated unit with no event at all in its untreated period has an estimated counterfactual
level of zero (its fixed effect is minus infinity); its treated observations then carry no
information on the effect and are left out, with a note saying so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyfixest as pf

from evaluation.errors import AnalysisError
from evaluation.estimators.did.staggered_common import (
    StaggeredFit,
    error_mode,
    is_count_model,
    make_fit,
    period_label,
    scaled_row,
    two_way_effects,
)
from evaluation.estimators.did.twfe import model_frame
from evaluation.estimators.fit_warnings import SEPARATION, recorded
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import IRLS_TOL, demeaner, scale_of
from evaluation.notes import Note, note


def fit_imputation(data: PreparedData, *, control_group: str) -> StaggeredFit:
    count = is_count_model(data)
    frame = _frame(data)
    notes: list[Note] = []
    if data.covariates:
        notes.append(note("imputation_covariates_unused", covariates=data.covariates))
    in_g = ~frame["treated_unit"] if control_group == "never_treated" else frame["d"] == 0
    in_f = frame["d"] == 0 if control_group == "never_treated" else in_g
    if control_group == "never_treated" and not in_g.any():
        raise AnalysisError(f"design {data.design.id}: analysis.control_group: never_treated, but "
                            "every unit is treated; use not_yet_treated or add control units")
    frame["in_g"] = in_g.to_numpy()
    frame["in_f"] = in_f.to_numpy()
    zero_periods = _drop_zero_groups(frame, notes) if count else pd.Index([])
    alpha, gamma = _fit_effects(frame, count=count)
    frame["alpha"] = frame["unit"].map(alpha)
    frame["gamma"] = frame["t"].map(gamma)
    if count:  # periods without any comparison event: zero counterfactual rate (ML estimate)
        frame.loc[frame["t"].isin(zero_periods), "gamma"] = -np.inf
    frame.loc[~np.isfinite(frame["gamma"]) | frame["alpha"].isna(), "in_f"] = False
    link = frame["alpha"] + frame["gamma"] + (frame["log_exposure"] if count else 0.0)
    frame["mu"] = np.exp(link) if count else link
    treated = frame["d"] == 1
    usable = treated & frame["alpha"].notna() & frame["gamma"].notna()
    _note_unusable(frame.loc[treated & ~usable], data, notes)
    if not usable.any():
        raise AnalysisError(f"design {data.design.id}: no treated observation has an imputable "
                            "counterfactual (no untreated data for its unit or period)")
    frame["use"] = usable.to_numpy()
    subsets = _subsets(frame, data)
    estimates, errors = _effects(frame, subsets, data, count=count)
    rows = [scaled_row(term, est, se, data.spec.alpha, method="imputation", scale=scale_of(data.spec.model))
            for (term, _), est, se in zip(subsets[1:], estimates[1:], errors[1:], strict=True)]
    aggregations = {term: {"estimate": est, "std_error": se, "n_obs": int(mask.sum())}
                    for (term, mask), est, se in zip(subsets, estimates, errors, strict=True)}
    counterfactual = frame.loc[frame["treated_unit"], ["unit", "t", "y", "d", "mu"]].rename(
        columns={"mu": "mu0"}).reset_index(drop=True)
    return make_fit(
        data, estimator="imputation", control_group=control_group, estimate=estimates[0],
        std_error=errors[0], method=_method(count, control_group), inference=_inference_text(data),
        extra_rows=rows, aggregations={"imputation": aggregations}, notes=tuple(notes),
        counterfactual=counterfactual)


# --- data -----------------------------------------------------------------------------------------
def _frame(data: PreparedData) -> pd.DataFrame:
    return model_frame(data.estimation_rows)


def _drop_zero_groups(frame: pd.DataFrame, notes: list[Note]) -> pd.Index:
    """Units / periods without any event in the fitting rows have a zero ML rate: take them out
    of the fit (their fixed effect is minus infinity; the Poisson fit would fail to converge)."""
    g_rows = frame["in_g"]
    zero_periods = frame.loc[g_rows].groupby("t")["y"].sum().loc[lambda s: s <= 0].index
    if len(zero_periods):
        notes.append(note("zero_comparison_periods", n=len(zero_periods)))
        frame.loc[frame["t"].isin(zero_periods), ["in_g", "in_f"]] = False
    zero_units = frame.loc[frame["in_f"]].groupby("unit")["y"].sum().loc[lambda s: s <= 0].index
    frame.loc[frame["unit"].isin(zero_units), ["in_g", "in_f"]] = False
    return zero_periods


def _note_unusable(rows: pd.DataFrame, data: PreparedData, notes: list[Note]) -> None:
    if rows.empty:
        return
    units = sorted(rows["unit"].unique())
    notes.append(note("treated_rows_unusable", n=len(rows), units=[str(u) for u in units]))


# --- fixed effects of the untreated-outcome model ------------------------------------------------
def _fit_effects(frame: pd.DataFrame, *, count: bool) -> tuple[pd.Series, pd.Series]:
    """alpha (unit) and gamma (period) effects; units only in F get their level given gamma."""
    g_rows = frame.loc[frame["in_g"]]
    if count:
        with recorded(expected=(SEPARATION,)):
            fit = pf.fepois("y ~ 1 | unit + t", data=g_rows[["y", "unit", "t", "log_exposure"]],
                            offset="log_exposure", fixef_rm="none", iwls_tol=IRLS_TOL, vcov="iid",
                            demeaner=demeaner())
        link = np.asarray(fit.predict(type="link"), dtype=float)
        if len(link) != len(g_rows):
            raise AnalysisError("imputation: the Poisson fit dropped observations unexpectedly; "
                                "report this with the design file")
        target = link - g_rows["log_exposure"].to_numpy()
    else:
        target = g_rows["y"].to_numpy()
    alpha, gamma = two_way_effects(g_rows["unit"], g_rows["t"], target)
    # Units fitted only on F rows (treated units in the never_treated variant): their level given
    # gamma, the closed-form maximiser of the Poisson (or least-squares) objective.
    f_only = frame.loc[frame["in_f"] & ~frame["unit"].isin(alpha.index)]
    if len(f_only):
        g = f_only["t"].map(gamma)
        ok = g.notna()
        f_only = f_only.loc[ok]
        if count:
            events = f_only.groupby("unit")["y"].sum()
            base = np.exp(g[ok] + f_only["log_exposure"]).groupby(f_only["unit"]).sum()
            extra = np.log(events / base)
        else:
            extra = (f_only["y"] - g[ok]).groupby(f_only["unit"]).mean()
        alpha = pd.concat([alpha, extra.replace(-np.inf, np.nan).dropna()])
        frame.loc[frame["in_f"] & ~frame["unit"].isin(alpha.index), "in_f"] = False
    return alpha, gamma


# --- effects and their errors --------------------------------------------------------------------
def _subsets(frame: pd.DataFrame, data: PreparedData) -> list[tuple[str, np.ndarray]]:
    """Overall effect, then by cohort and by event time (last lag binned) over treated rows."""
    use = frame["use"].to_numpy()
    out = [("overall", use)]
    for cohort in sorted(frame.loc[frame["use"], "cohort"].unique()):
        out.append((f"imp_cohort_{period_label(data, cohort)}",
                    use & (frame["cohort"].to_numpy() == cohort)))
    event = (frame["t"] - frame["cohort"]).to_numpy()
    last = data.spec.event_window[1]
    for e in range(0, last + 1):
        mask = use & (event == e) if e < last else use & (event >= e)
        if mask.any():
            out.append((f"imp_event_{e}" if e < last else f"imp_event_{e}+", mask))
    return out


def _effects(frame: pd.DataFrame, subsets: list[tuple[str, np.ndarray]], data: PreparedData, *,
             count: bool) -> tuple[list[float], list[float]]:
    """Point estimates and standard errors for every subset of treated observations.

    Linearisation of the stacked equations S(theta) = sum_F a_r (y_r - mu_r) = 0 (fixed effects)
    and m(tau, theta) = 0 (effect): tau - tau0 ~ (m - k g' J^-1 S) / D, so each row adds
    (effect residual)/D if treated and -k (v'a_r)(y_r - mu_r)/D if in F, with v = J'^-1 g.
    """
    f = frame.loc[frame["in_f"]]
    units = pd.Index(sorted(f["unit"].unique()))
    g_periods = pd.Index(sorted(f.loc[f["in_g"], "t"].unique()))
    n_u = len(units)
    ref = g_periods[0]
    t_pos = pd.Series(np.arange(len(g_periods)) - 1 + n_u, index=g_periods).drop(ref)
    n_par = n_u + len(g_periods) - 1

    f_u = units.get_indexer(f["unit"])
    f_t = f["t"].map(t_pos).fillna(-1).astype(int).to_numpy()  # -1: reference period
    w = f["mu"].to_numpy() if count else np.ones(len(f))
    in_g = f["in_g"].to_numpy()
    jac = np.zeros((n_par, n_par))
    has_t = f_t >= 0
    np.add.at(jac, (f_u, f_u), w)
    np.add.at(jac, (f_u[has_t], f_t[has_t]), w[has_t])
    gt = in_g & has_t
    np.add.at(jac, (f_t[gt], f_u[gt]), w[gt])
    np.add.at(jac, (f_t[gt], f_t[gt]), w[gt])

    y, mu = frame["y"].to_numpy(), frame["mu"].to_numpy()
    d_u = units.get_indexer(frame["unit"])
    d_t = frame["t"].map(t_pos).fillna(-1).astype(int).to_numpy()
    grads, parts = [], []
    for _, mask in subsets:
        grad = np.zeros(n_par)
        weight = mu[mask] if count else np.ones(mask.sum())
        np.add.at(grad, d_u[mask], weight)
        tt = d_t[mask] >= 0
        np.add.at(grad, d_t[mask][tt], weight[tt])
        grads.append(grad)
        if count and y[mask].sum() <= 0:  # no event at all: rate ratio 0, no Wald error
            parts.append((-math.inf, 0.0, 0.0))
        elif count and mu[mask].sum() <= 0:
            # events where the imputed counterfactual rate is 0 (periods without any comparison
            # event): no rate ratio exists, so the cell is not estimable (NaN), never y / 0
            parts.append((math.nan, 0.0, 0.0))
        elif count:
            tau = math.log(y[mask].sum() / mu[mask].sum())
            parts.append((tau, math.exp(tau), math.exp(tau) * mu[mask].sum()))
        else:
            tau = float(np.mean(y[mask] - mu[mask]))
            parts.append((tau, 1.0, float(mask.sum())))
    v = np.linalg.solve(jac.T, np.column_stack(grads))

    resid_f = (f["y"] - f["mu"]).to_numpy()
    cell_resid = _cell_residuals(frame, count=count)
    va = v[f_u] + np.where(gt[:, None], v[np.clip(f_t, 0, None)], 0.0)
    mode = error_mode(data)[0]
    cluster = mode == "cluster"
    var_f = _model_variance(f, count=count, model=data.spec.model if mode == "model" else
                            "quasi_poisson", n_par=n_par)
    estimates, errors = [], []
    for j, (_, mask) in enumerate(subsets):
        tau, k, denom = parts[j]
        if not denom > 0:
            estimates.append(tau)
            errors.append(math.nan)
            continue
        resid_d = cell_resid[mask]
        contrib_f = -k * va[:, j] * resid_f / denom
        contrib_d = resid_d / denom
        if cluster:
            sums = pd.concat([pd.Series(contrib_f, index=f["unit"].to_numpy()),
                              pd.Series(contrib_d, index=frame.loc[mask, "unit"].to_numpy())])
            per_unit = sums.groupby(level=0).sum().to_numpy()
            n_cl = len(per_unit)
            var = n_cl / (n_cl - 1) * float(np.sum(per_unit ** 2)) if n_cl > 1 else math.nan
        else:
            var_d = var_f["scale"] * (k * mu[mask] if count else np.ones(mask.sum()))
            if count and var_f["kappa"] > 0:
                var_d = k * mu[mask] * (1 + var_f["kappa"] * k * mu[mask])
            var = float(np.sum((k * va[:, j] / denom) ** 2 * var_f["row"])
                        + np.sum(var_d / denom ** 2))
        estimates.append(tau)
        errors.append(math.sqrt(var) if var > 0 else math.nan)
    return estimates, errors


def _cell_residuals(frame: pd.DataFrame, *, count: bool) -> np.ndarray:
    """Residual of each treated observation around its cell's effect, left out of that effect.

    Borusyak-Jaravel-Spiess: the effect varies between cohorts and periods by design, and that
    variation is not sampling noise, so each treated observation is compared with the effect of
    the other units of its cohort in the same period (leave-one-unit-out), or, when its cohort
    has no other unit in that period, of its cohort over all periods, or else of all treated
    observations. Without the leave-out the residuals of small cells would be shrunk to zero.
    """
    use = frame["use"].to_numpy()
    rows = frame.loc[use, ["unit", "t", "cohort", "y", "mu"]]
    y, mu = rows["y"].to_numpy(), rows["mu"].to_numpy()
    out = np.zeros(len(frame))
    resid = np.full(len(rows), np.nan)
    for keys in (["cohort", "t"], ["cohort"], []):
        if keys:
            grouped = rows.groupby(keys)
            n_units = grouped["unit"].transform("nunique").to_numpy()
            sum_y, sum_mu = grouped["y"].transform("sum").to_numpy(), grouped["mu"].transform("sum").to_numpy()
            unit_keys = [*keys, "unit"]
            own_y = rows.groupby(unit_keys)["y"].transform("sum").to_numpy()
            own_mu = rows.groupby(unit_keys)["mu"].transform("sum").to_numpy()
            own_n = rows.groupby(unit_keys)["y"].transform("size").to_numpy()
            n_obs = grouped["y"].transform("size").to_numpy()
        else:
            n_units = np.full(len(rows), rows["unit"].nunique())
            sum_y, sum_mu, n_obs = np.full(len(rows), y.sum()), np.full(len(rows), mu.sum()), len(rows)
            own_y = rows.groupby("unit")["y"].transform("sum").to_numpy()
            own_mu = rows.groupby("unit")["mu"].transform("sum").to_numpy()
            own_n = rows.groupby("unit")["y"].transform("size").to_numpy()
        todo = np.isnan(resid) & (n_units >= 2)
        if not keys:  # last resort: one treated unit, no one to leave it out against
            todo = np.isnan(resid)
            own_y, own_mu, own_n = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(rows))
        with np.errstate(divide="ignore", invalid="ignore"):
            if count:
                ratio = (sum_y - own_y) / (sum_mu - own_mu)
                resid[todo] = (y - ratio * mu)[todo]
            else:
                effect = ((sum_y - own_y) - (sum_mu - own_mu)) / (n_obs - own_n)
                resid[todo] = (y - mu - effect)[todo]
    out[use] = resid
    return out


def _model_variance(f: pd.DataFrame, *, count: bool, model: str, n_par: int) -> dict:
    """Model-based variance of each F row and the scale used for treated rows."""
    y, mu = f["y"].to_numpy(), f["mu"].to_numpy()
    dof = max(len(f) - n_par, 1)
    if not count:
        sigma2 = float(np.sum((y - mu) ** 2) / dof)
        return {"row": np.full(len(f), sigma2), "scale": sigma2, "kappa": 0.0}
    if model == "quasi_poisson":
        phi = float(np.sum((y - mu) ** 2 / mu) / dof)
        return {"row": phi * mu, "scale": phi, "kappa": 0.0}
    if model == "negative_binomial":
        kappa = max(0.0, float(np.sum((y - mu) ** 2 - y) / np.sum(mu ** 2)))
        return {"row": mu * (1 + kappa * mu), "scale": 1.0, "kappa": kappa}
    return {"row": mu, "scale": 1.0, "kappa": 0.0}


def _method(count: bool, control_group: str) -> str:
    controls = ("never-treated units" if control_group == "never_treated"
                else "never-treated and not-yet-treated observations")
    if count:
        return ("imputation (Borusyak-Jaravel-Spiess): Poisson PPML with unit and period fixed "
                f"effects and offset log(exposure) fitted on untreated observations ({controls}); "
                "rate ratio = observed / imputed events of treated observations")
    return ("imputation (Borusyak-Jaravel-Spiess): unit and period fixed effects fitted by least "
            f"squares on untreated observations ({controls}); effect = mean(observed - imputed) "
            "over treated observations")


def _inference_text(data: PreparedData) -> str:
    return (f"{error_mode(data)[1]}, from the stacked estimating equations (includes the "
            "uncertainty of the imputed counterfactual)")
