"""Separation before the start, fitted: no treated event before it, some after.

The statistics are in `did.separation` (the exact conditional lower bound); the inference around
it in `did.primary` (`fit_primary`, one path for the analysis, the phases and the diagnosis).
Here: the Poisson fit of the comparison units alone gives the period effects; each treated
unit's expected counts before and after the start are exp(period effect) x exposure up to its
own unknown level, which cancels in their ratio. A period without any comparison event has no
period effect to go on (its rate is 0 for the comparison units): the treated events in it
would identify only that period's effect, so they carry no information on the rate ratio and
are left out of the totals. The fit is a `TwfeFit` with beta +inf (`separated_before`) whose
counterfactual is unknown (NaN) on the treated rows, so nothing downstream draws or counts a
level the data do not give.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evaluation.errors import AnalysisError
from evaluation.estimators.did.staggered_common import two_way_effects
from evaluation.estimators.did.twfe import METHODS, TwfeFit, fepois, n_params
from evaluation.estimators.stats import pearson_dispersion


def fit_before_start(frame: pd.DataFrame, *, treated: dict[str, int], model: str,
                     design: str) -> tuple[TwfeFit, pd.DataFrame]:
    """(the comparison units' fit as a TwfeFit with beta +inf, the treated units' totals n,
    e_pre, e_post for `did.separation`); see the module docstring."""
    is_treated = frame["unit"].isin(set(treated)).to_numpy()
    used_rows = frame.loc[~is_treated]
    for key in ("t", "unit"):  # periods, then units, left without any comparison event
        used_rows = used_rows.loc[used_rows.groupby(key)["y"].transform("sum") > 0]
    if used_rows.empty or not (used_rows["t"] < min(treated.values())).any():
        raise AnalysisError(f"design {design}: the treated units have no events before the start "
                            "and the comparison units none either, so no rate without the "
                            "intervention can be estimated; move window.start earlier or add "
                            "comparison units")
    controls = used_rows.reset_index(drop=True)
    fit = fepois("y ~ 1 | unit_id + t", controls, "iid")
    mu_c = np.asarray(fit.predict(type="response"), dtype=float)
    _, gamma = two_way_effects(controls["unit"], controls["t"],
                               np.log(mu_c) - controls["log_exposure"].to_numpy())
    rows = frame.loc[is_treated & frame["t"].isin(gamma.index).to_numpy()]
    relative = np.exp(rows["t"].map(gamma).to_numpy(dtype=float)
                      + rows["log_exposure"].to_numpy(dtype=float))
    fitted = np.full(len(frame), np.nan)  # unknown on the treated rows
    fitted[frame.index.get_indexer(used_rows.index)] = mu_c
    k = n_params(controls) - 1  # no treatment coefficient
    twfe = TwfeFit(model=model, method=METHODS[model], beta=math.inf, se_model=math.nan,
                   se_cluster=math.nan, fitted=fitted, frame=frame, n_params=k,
                   dispersion=pearson_dispersion(controls["y"].to_numpy(), mu_c, k),
                   fitted_untreated=fitted, model_result=fit)
    return twfe, _totals(rows, relative)


def _totals(rows: pd.DataFrame, relative: np.ndarray) -> pd.DataFrame:
    """Per treated unit: n (events), e_pre and e_post (expected, up to the unit's level)."""
    post = rows["d"].to_numpy() == 1
    parts = pd.DataFrame({"unit": rows["unit"].to_numpy(), "n": rows["y"].to_numpy(dtype=float),
                          "e_pre": np.where(post, 0.0, relative),
                          "e_post": np.where(post, relative, 0.0)})
    out = parts.groupby("unit", sort=True)[["n", "e_pre", "e_post"]].sum()
    return out.loc[(out["n"] > 0) & (out["e_pre"] > 0) & (out["e_post"] > 0)]
