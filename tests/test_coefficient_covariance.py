"""Issue 18: the covariance of pyfixest coefficients through its public API (`wald_test`), not its
private `_vcov`, checked against statsmodels' GLM on the same data (the reference package)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.estimators.stats import coefficient_covariance


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n_units, n_periods = 30, 20
    frame = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods),
                          "t": np.tile(np.arange(n_periods), n_units)})
    frame["x1"] = ((frame["unit"] < 5) & (frame["t"] >= 15)).astype(float)
    frame["x2"] = ((frame["unit"] < 5) & (frame["t"] == 12)).astype(float)
    frame["x3"] = rng.normal(size=len(frame))
    frame["y"] = rng.poisson(np.exp(0.5 + 0.2 * frame["x1"] + 0.1 * frame["x3"]
                                    + 0.02 * frame["t"]))
    return frame


def _glm(panel: pd.DataFrame):
    dummies = pd.get_dummies(panel[["unit", "t"]].astype(str), drop_first=True).astype(float)
    x = sm.add_constant(pd.concat([panel[["x1", "x2", "x3"]], dummies], axis=1))
    return sm.GLM(panel["y"], x, family=sm.families.Poisson())


def test_model_based_covariance_equals_statsmodels(panel):
    import pyfixest as pf

    fit = pf.fepois("y ~ x1 + x2 + x3 | unit + t", data=panel, vcov="iid",
                    ssc=pf.ssc(k_adj=False, G_adj=False))
    ours = coefficient_covariance(fit, ["x1", "x2", "x3"])
    reference = _glm(panel).fit().cov_params().loc[["x1", "x2", "x3"], ["x1", "x2", "x3"]]
    # rel 1e-4: both are the inverse Fisher information at IRLS optima converged to about 1e-8
    np.testing.assert_allclose(ours, reference.to_numpy(), rtol=1e-4)


def test_cluster_robust_covariance_equals_statsmodels(panel):
    import pyfixest as pf

    fit = pf.fepois("y ~ x1 + x2 + x3 | unit + t", data=panel, vcov={"CRV1": "unit"},
                    ssc=pf.ssc(k_adj=False, G_adj=False))
    ours = coefficient_covariance(fit, ["x3", "x1"])  # any order of names
    reference = _glm(panel).fit(cov_type="cluster", cov_kwds={"groups": panel["unit"],
                                                              "use_correction": False})
    expected = reference.cov_params().loc[["x3", "x1"], ["x3", "x1"]].to_numpy()
    # rel 1e-4 as above; a near-zero covariance (here -1.7e-6) is compared absolutely, at 1e-4
    # of the largest variance: the two optimisers stop at slightly different points
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_no_names_gives_an_empty_matrix(panel):
    import pyfixest as pf

    fit = pf.fepois("y ~ x1 | unit + t", data=panel, vcov="iid")
    assert coefficient_covariance(fit, []).shape == (0, 0)


def test_combinations_equal_w_v_w_and_zero_weights_have_no_variance(panel):
    """W V W' of the full matrix, asked as combinations; a zero row has variance 0."""
    import pyfixest as pf

    from evaluation.estimators.stats import combination_covariance

    fit = pf.fepois("y ~ x1 + x2 + x3 | unit + t", data=panel, vcov="iid",
                    ssc=pf.ssc(k_adj=False, G_adj=False))
    full = coefficient_covariance(fit, ["x1", "x2", "x3"])
    w = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, -1.0], [0.0, 0.0, 0.0]])
    # rel 1e-9 (abs 1e-12 for the zero row): the same Wald statistics, combined differently
    np.testing.assert_allclose(combination_covariance(fit, ["x1", "x2", "x3"], w), w @ full @ w.T,
                               rtol=1e-9, atol=1e-12)
