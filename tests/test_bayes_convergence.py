"""`bayes/convergence.py` against ArviZ, the reference package, on the same draws.

Tolerance: relative 1e-9 elementwise. The module evaluates ArviZ 0.23's formulas step for step
(same ranks, split, quantile, variance, autocovariance and Geyer truncation), so the results can
differ only by the order of floating-point operations (the FFT batched over parameters, the sum
of the autocorrelations over lag pairs), i.e. by a few units in the 16th digit; NaN where ArviZ
gives NaN. `diagnose` must give the very dict the former per-parameter ArviZ computation gave.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings

import arviz as az
import numpy as np
import pytest

from evaluation.estimators.bayes.convergence import convergence
from evaluation.estimators.bayes.diagnostics import diagnose

REL = 1e-9


@pytest.fixture(autouse=True)
def _quiet_arviz():
    # ArviZ logs a warning for each invalid parameter (NaN draws, one chain); not under test
    logger = logging.getLogger("arviz")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@contextlib.contextmanager
def _arviz_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ArviZ's 0/0 for constant parameters
        yield


def _arviz(draws: np.ndarray) -> list[np.ndarray]:
    data = az.convert_to_dataset({"x": draws})
    with _arviz_quiet():
        return [np.atleast_1d(result["x"].values) for result in (
            az.rhat(data), az.ess(data, method="bulk"), az.ess(data, method="tail"))]


def _agree(draws: np.ndarray) -> None:
    for name, ours, theirs in zip(("r_hat", "ess_bulk", "ess_tail"), convergence(draws),
                                  _arviz(draws), strict=True):
        assert ours.shape == theirs.shape == (draws.shape[2],), name
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), name
        finite = ~np.isnan(theirs)
        np.testing.assert_allclose(ours[finite], theirs[finite], rtol=REL, atol=0, err_msg=name)


def _ar1(rng, shape, phi):
    noise = rng.normal(size=shape)
    draws = np.empty(shape)
    draws[:, 0] = noise[:, 0]
    for t in range(1, shape[1]):
        draws[:, t] = phi * draws[:, t - 1] + noise[:, t]
    return draws


def test_chain_offsets_bad_mixing():
    rng = np.random.default_rng(1)
    draws = rng.normal(size=(4, 200, 50)) + np.linspace(0, 0.6, 4)[:, None, None]
    _agree(draws)
    assert np.nanmax(convergence(draws)[0]) > 1.01  # the offsets are seen


def test_autocorrelated_odd_number_of_draws():
    rng = np.random.default_rng(2)
    # phi from 0 (independent) to 0.97 (ESS far below the draws); 301 draws: the middle one is
    # dropped from the split chains but enters the tail quantiles
    draws = _ar1(rng, (4, 301, 12), np.linspace(0, 0.97, 12))
    _agree(draws)


def test_heavy_tails_and_ties():
    rng = np.random.default_rng(3)
    _agree(rng.standard_cauchy(size=(4, 150, 20)))
    _agree(rng.poisson(1.0, size=(4, 120, 10)).astype(float))  # many tied ranks


def test_one_parameter_two_chains():
    rng = np.random.default_rng(4)
    _agree(rng.normal(size=(2, 101, 1)))


def test_constant_nan_and_stuck_parameters():
    rng = np.random.default_rng(5)
    draws = rng.normal(size=(4, 100, 5))
    draws[:, :, 1] = 3.0  # constant: R-hat NaN, ESS = all split draws
    draws[0, 7, 2] = np.nan  # a NaN draw: everything NaN
    draws[:, :, 3] = np.arange(4)[:, None]  # each chain stuck at its own value
    _agree(draws)
    r_hat, bulk, tail = convergence(draws)
    assert math.isnan(r_hat[1]) and bulk[1] == tail[1] == 400
    assert np.isnan([r_hat[2], bulk[2], tail[2]]).all()


def test_one_chain_and_too_few_draws():
    rng = np.random.default_rng(6)
    _agree(rng.normal(size=(1, 100, 3)))  # R-hat NaN, ESS defined
    _agree(rng.normal(size=(3, 3, 2)))  # fewer than 4 draws: all NaN
    _agree(rng.normal(size=(3, 5, 2)))  # shortest split chains


def _old_diagnose(idata, var_names):
    """The former `diagnose`: ArviZ per parameter."""
    posterior = idata.posterior[var_names]
    with _arviz_quiet():
        rhat, bulk = az.rhat(posterior), az.ess(posterior, method="bulk")
        tail = az.ess(posterior, method="tail")

    def values(ds):
        return [float(v) for name in var_names for v in np.ravel(ds[name].values)]

    r_hats = values(rhat)
    r_hat_max = float("nan") if not all(math.isfinite(r) for r in r_hats) else max(r_hats)

    def min_or_nan(vs):
        finite = [v for v in vs if math.isfinite(v)]
        return min(finite) if len(finite) == len(vs) and finite else float("nan")

    diverging = idata.sample_stats["diverging"].values
    return {"r_hat_max": r_hat_max, "ess_bulk_min": min_or_nan(values(bulk)),
            "ess_tail_min": min_or_nan(values(tail)), "divergences": int(np.sum(diverging))}


@pytest.mark.parametrize("chains", [4, 1])
def test_diagnose_matches_the_arviz_computation(chains):
    rng = np.random.default_rng(7)
    posterior = {"effect": rng.normal(size=(chains, 250)),
                 "unit": _ar1(rng, (chains, 250, 50), 0.8),
                 "period": rng.standard_t(3, size=(chains, 250, 3, 4)),
                 "unused": np.zeros((chains, 250))}
    sample_stats = {"diverging": rng.random((chains, 250)) < 0.01}
    idata = az.from_dict(posterior=posterior, sample_stats=sample_stats)
    names = ["effect", "unit", "period"]
    ours, expected = diagnose(idata, var_names=names), _old_diagnose(idata, names)
    assert ours.keys() == expected.keys()
    for key, value in expected.items():
        if math.isnan(value):
            assert math.isnan(ours[key]), key
        else:
            assert ours[key] == pytest.approx(value, rel=REL, abs=0), key
    assert math.isnan(ours["r_hat_max"]) == (chains == 1)
