"""The ITS recent-rise check (estimators.its.recent_rise; issue 13's selection on a spike, for a
time series): its rule and recorded values by hand, its skips, that it blocks the verdict, its
size and power by simulation, and its sentences in both languages.

What the simulations showed when the check was built (AR(1) 0.8 log-scale shocks of sd 0.3, 12
events a week, quasi-Poisson with trend and 2 Fourier pairs, placebo-block inference; the seeds
of the slow test): the check fails 2.3% +- 0.5% of single series without any rise (80 weeks
before, 14 after; 1000 series) and 2.2% +- 0.7% of controlled ones (400); the rule's nominal rate
is alpha / 2 = 2.5%, as only a rise fails. Its power depends on the pre-period's length: for the
series with the largest excess in its last 8 weeks among 340, it fails in 8.7% +- 1.6% (80 weeks
before), 56% +- 3% (156) and 80% +- 2% (260) of 300 series each. With 80 weeks the placebo-block
p-value has a floor near 0.05 however large the rise (a planted doubling, tripling or quadrupling
of a plain Poisson series all give p 0.047-0.066): the null fit without a level change bends
trend and season towards the window, and the misfit it leaves in the earlier blocks grows with
the rise. The tests with a planted rise therefore use three years before the start.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation import defaults
from evaluation.analysis.decision import decide
from evaluation.design.model import Design
from evaluation.estimators.its import check_recent_rise, estimate_its
from evaluation.estimators.its.recent_rise import recent_rise_check, registered_choice
from evaluation.estimators.its.segmented import TREATED, CovChoice, ModelSpec
from evaluation.report.check_words import check_name, check_sentence
from evaluation.report.verdict_box import verdict_box
from evaluation.report.verdict_text import label, reasons
from evaluation.simulation.series import prepared_from_long
from evaluation.simulation.synthetic import SimulationConfig, simulate

FIRST_MONDAY = dt.date(2021, 1, 4)
N_PRE, N_POST = 80, 14  # the simulations' series (issue 21's case)
LONG_PRE = 156  # the planted rises: three years before the start (see the module docstring)


def _design(*, n_pre: int, model: str = "quasi_poisson", inference: str = "auto",
            trend: bool = True, seasonality: int = 2) -> Design:
    return Design.model_validate({
        "id": "its-recent-rise", "title": "t", "owner": "o", "hypothesis": "h", "design": "its",
        "data": {"source": "/tmp/sim.csv", "frequency": "week", "unit_column": "", "outcome": "y"},
        "treatment": {"units": ["all"], "start": FIRST_MONDAY + dt.timedelta(weeks=n_pre)},
        "window": {"start": FIRST_MONDAY,
                   "end": FIRST_MONDAY + dt.timedelta(weeks=n_pre + N_POST - 1)},
        "analysis": {"model": model, "inference": inference, "trend": trend,
                     "seasonality": seasonality},
    })


def _counts(seed: int = 7, *, n_pre: int = LONG_PRE) -> np.ndarray:
    """n_pre + 14 weeks of Poisson counts around 12 a week, no rise anywhere."""
    return np.random.default_rng(seed).poisson(12.0, size=n_pre + N_POST).astype(float)


def _jumped(y: np.ndarray, by: float = 12.0) -> np.ndarray:
    """The same series with `by` more events in each of the last 8 weeks before the start."""
    out, n_pre = y.copy(), len(y) - N_POST
    out[n_pre - 8:n_pre] += by
    return out


def _data(y: np.ndarray, **design):
    periods = pd.date_range(FIRST_MONDAY, periods=len(y), freq="7D")
    long = pd.DataFrame({"unit": "all", "period": periods, "y": y, "exposure": 1.0})
    return prepared_from_long(_design(n_pre=len(y) - N_POST, **design), long)


# --- (1) a planted jump fails, the same series without it passes ------------------------------
def test_a_jump_in_the_last_eight_weeks_fails_and_the_same_series_without_it_passes():
    y = _counts()
    plain = check_recent_rise(_data(y))
    jumped = check_recent_rise(_data(_jumped(y)))
    assert plain.status == "pass", plain.detail
    assert jumped.status == "fail", jumped.detail
    assert jumped.blocking and plain.blocking
    assert jumped.values["inference"] == "placebo_blocks"  # the design's (auto) inference
    # 12 more on about 12 a week: roughly a doubling over the earlier weeks
    assert 1.6 < jumped.values["estimate"] < 2.5
    assert "window.exclude" in jumped.detail and "code recent_rise" in jumped.detail


def test_a_fall_before_the_start_passes():
    """Only a rise is selection on a spike: a significant fall passes."""
    y = _counts()
    y[LONG_PRE - 8:LONG_PRE] = np.floor(y[LONG_PRE - 8:LONG_PRE] / 3)
    check = check_recent_rise(_data(y, model="poisson", inference="model", trend=False,
                                    seasonality=0))
    assert check.values["estimate"] < 0.5 and check.values["p_value"] < 1e-6
    assert check.status == "pass" and check.values["code"] is None


# --- (2) the recorded values, by hand -----------------------------------------------------------
def test_values_by_hand_with_model_based_errors():
    """Poisson, intercept and level change only: the level change is the log ratio of the window's
    mean to the earlier weeks' mean, and its model-based variance 1 / S_window + 1 / S_before."""
    y = _jumped(_counts(n_pre=N_PRE))
    check = check_recent_rise(_data(y, model="poisson", inference="model", trend=False,
                                    seasonality=0))
    window, before = y[72:80], y[:72]
    ratio = window.mean() / before.mean()
    z = math.log(ratio) / math.sqrt(1 / window.sum() + 1 / before.sum())
    p = 2 * stats.norm.sf(abs(z))
    assert check.values["periods"] == 8 and check.values["from_t"] == 72
    assert check.values["from"] == (FIRST_MONDAY + dt.timedelta(weeks=72)).isoformat()
    assert check.values["estimate"] == pytest.approx(ratio, rel=1e-6)
    assert check.values["p_value"] == pytest.approx(p, rel=1e-4)
    assert check.values["alpha"] == 0.05 and check.values["inference"] == "model"
    assert check.values["code"] == "recent_rise" and check.status == "fail"
    assert check.values["design"] == "its"


def test_values_by_hand_with_the_placebo_block_test():
    """Intercept only under the null: every residual block keeps the same share of a shared shock,
    so the test is the prediction t test of the window's mean against the 9 earlier 8-week
    block means (t on 8 df), computed on the counts themselves."""
    y = _counts(11, n_pre=N_PRE)
    y[72:80] += 5
    check = check_recent_rise(_data(y, model="quasi_poisson", inference="auto", trend=False,
                                    seasonality=0))
    blocks = np.array([y[72 - 8 * (j + 1):72 - 8 * j].mean() for j in range(9)])
    t = (y[72:80].mean() - blocks.mean()) / (blocks.std(ddof=1) * math.sqrt(1 + 1 / 9))
    p = 2 * min(stats.t.cdf(t, 8), stats.t.sf(t, 8))
    assert check.values["inference"] == "placebo_blocks"
    assert check.values["p_value"] == pytest.approx(p, rel=1e-6)
    assert check.values["estimate"] == pytest.approx(y[72:80].mean() / y[:72].mean(), rel=1e-6)
    assert check.status == ("fail" if p < 0.05 else "pass")


def test_window_length_follows_the_frequency():
    assert defaults.RECENT_RISE_PERIODS == {"day": 56, "week": 8, "month": 2, "quarter": 1,
                                            "year": 1}


# --- (3) skips -----------------------------------------------------------------------------
def _frame(n_pre: int, *, zero_window: bool = False) -> pd.DataFrame:
    y = np.random.default_rng(3).poisson(12.0, size=n_pre + 10).astype(float)
    if zero_window:
        y[n_pre - 8:n_pre] = 0
    t = np.arange(len(y))
    return pd.DataFrame({"group": TREATED, "period": t, "t": t, "y": y, "exposure": 1.0,
                         "excluded": False})


SPEC = ModelSpec(model="quasi_poisson", trend=True, harmonics=0, slope_change=False,
                 covariates=(), has_exposure=False, frequency="week", controlled=False)


def _check(n_pre: int, *, blocks: bool, frame: pd.DataFrame | None = None):
    frame = _frame(n_pre) if frame is None else frame
    return recent_rise_check(frame, spec=SPEC, t_start=n_pre, choice=CovChoice("model"),
                             blocks=blocks, alpha=0.05, window=8,
                             periods=tuple(range(len(frame))))


def test_skipped_when_the_pre_period_is_too_short():
    # 8 window periods and at least MIN_PRE_PERIODS (8) before them: 16 needed
    short = _check(15, blocks=False)
    assert short.status == "skipped" and short.blocking
    assert short.values == {"skip_code": "short_pre_period", "periods": 8, "design": "its"}
    assert "15 periods" in short.detail
    assert _check(16, blocks=False).status in ("pass", "fail")


def test_skipped_when_too_short_for_the_placebo_block_test():
    # the 8 window periods against blocks of min(8, n // 4) periods before them, at least 3 of at
    # least 8 periods: 32 before the window (40 before the start) is the least
    assert _check(39, blocks=True).values.get("skip_code") == "short_pre_period"
    assert _check(40, blocks=True).status in ("pass", "fail")
    assert _check(39, blocks=False).status in ("pass", "fail")


def test_refit_that_fails_is_skipped_as_not_estimable(monkeypatch):
    import evaluation.estimators.its.recent_rise as module
    monkeypatch.setattr(module, "refit", lambda *a, **k: None)
    check = _check(60, blocks=False)
    assert check.status == "skipped" and check.values["skip_code"] == "not_estimable"


def test_no_events_in_the_window_is_no_rise():
    check = _check(60, blocks=True, frame=_frame(60, zero_window=True))
    assert check.status == "pass" and check.values["estimate"] == 0.0
    assert check.values["p_value"] is None


def test_separated_series_inference_is_the_registered_one():
    assert registered_choice("auto", hac_lags=None, n_periods=100) == (True, CovChoice("model"))
    assert registered_choice("model", hac_lags=None, n_periods=100) == (False, CovChoice("model"))
    # Newey-West's rule floor(4 (100 / 100)^(2/9)) = 4 lags, or the registered number
    assert registered_choice("hac", hac_lags=None, n_periods=100) == (False, CovChoice("hac", 4))
    assert registered_choice("hac", hac_lags=2, n_periods=100) == (False, CovChoice("hac", 2))


def test_separated_series_still_runs_the_check():
    """No event after the start (exact one-sided interval): the check needs the pre-period only."""
    y = _jumped(_counts())
    y[LONG_PRE:] = 0
    out = estimate_its(_data(y))
    assert out.primary["estimable"] is False
    check = next(c for c in out.checks if c.name == "recent_rise")
    assert check.status == "fail" and check.values["inference"] == "placebo_blocks"


# --- (4) blocking: the verdict is withheld -----------------------------------------------------
REGISTERED = {"status": "registered", "matches": True, "design": "its", "controlled": False}


def test_a_failing_check_withholds_the_verdict():
    y = _counts()
    # a large fall after the start, which the rule would otherwise call a success
    y[LONG_PRE:] = np.floor(y[LONG_PRE:] / 2)
    for planted, blocked in ((False, False), (True, True)):
        series = _jumped(y) if planted else y
        out = estimate_its(_data(series))
        check = next(c for c in out.checks if c.name == "recent_rise")
        assert check.kind == "recent_rise" and check.blocking
        decision = decide(primary=out.primary, bayesian=None, checks=list(out.checks),
                          registration=REGISTERED, rule=None)
        rise = [b for b in decision["blocking"] if b.get("check") == "recent_rise"]
        assert bool(rise) is blocked, decision["blocking"]
        if not blocked:
            continue
        assert decision["verdict"] == "inconclusive" and decision["reason"] == "blocked"
        assert rise == [{"code": "check_failed", "check": "recent_rise", "kind": "recent_rise",
                         "detail": check.detail, "design": "its"}]
        assert label(decision["verdict"], "nl") == "nog niet te zeggen"
        nl = " ".join(reasons(decision, "nl"))
        assert "De controle 'Piek vlak vóór de start' is niet geslaagd: de reeks had vlak" in nl
        assert "interventiegebieden" not in nl
        en = " ".join(reasons(decision, "en"))
        assert "The check 'A rise just before the start' failed: the series had" in en
        # the page's verdict box joins the check's values: the same sentence with its numbers
        box = html.unescape(verdict_box({"decision": decision, "checks": [
            c.to_dict() for c in out.checks], "registration": "registered"}, lang="nl"))
        assert "nog niet te zeggen" in box and "de reeks had vlak vóór de start" in box
        assert "(de laatste 8 perioden vóór de start tegen de eerdere: schatting " in box


def test_controlled_its_runs_the_check_on_the_treated_series_over_the_control():
    config = SimulationConfig(n_units=2, n_treated=1, n_periods=94, start=80,
                              events_per_period=24, population_sd=0.0, unit_effect_sd=0.0,
                              period_sd=0.1, design="its", controls=("GM0002",),
                              analysis={"model": "quasi_poisson", "inference": "auto"})
    data = simulate(np.random.default_rng(4), config)
    check = check_recent_rise(data)
    assert check.status == "pass" and check.values["inference"] == "placebo_blocks"
    # the same rise in both series is a common shock, not a rise of the treated series
    both = data.panel["t"].between(72, 79)
    common = check_recent_rise(data.with_outcome(np.where(both, data.panel["y"] * 2,
                                                          data.panel["y"])))
    assert common.status == "pass", common.detail
    treated = both & (data.panel["unit"] == "GM0001")
    alone = check_recent_rise(data.with_outcome(np.where(treated, data.panel["y"] * 2,
                                                         data.panel["y"])))
    assert alone.status == "fail", alone.detail


# --- (5) size and power by simulation ----------------------------------------------------------
def _null_config(**analysis) -> SimulationConfig:
    """One series, 12 events a week, 80 weeks before and 14 after, AR(1) 0.8 shocks of sd 0.3."""
    return SimulationConfig(n_units=1, n_treated=1, n_periods=N_PRE + N_POST, start=N_PRE,
                            events_per_period=12, period_sd=0.1, persistence=0.8,
                            deviation_sd=0.3, design="its",
                            analysis={"model": "quasi_poisson", "inference": "auto", **analysis})


def _spike_config(pool: int, n_pre: int) -> SimulationConfig:
    """The series with the largest excess in its last 8 weeks among `pool` equal ones (12 a
    week each, the same shocks as the null), no effect at all."""
    return SimulationConfig(n_units=pool, n_treated=1, n_periods=n_pre + N_POST, start=n_pre,
                            events_per_period=12 * pool, population_sd=0.0, unit_effect_sd=0.0,
                            period_sd=0.1, persistence=0.8, deviation_sd=0.3, design="its",
                            treated="spike", spike_periods=8,
                            analysis={"model": "quasi_poisson", "inference": "auto"})


def _fail_rate(config: SimulationConfig, *, reps: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    checks = [check_recent_rise(simulate(rng, config)) for _ in range(reps)]
    assert not [c for c in checks if c.status == "skipped"]
    rate = float(np.mean([c.status == "fail" for c in checks]))
    return rate, math.sqrt(max(rate * (1 - rate), 1e-12) / reps)


def _size_bar(alpha: float, reps: int) -> float:
    """alpha plus 3 Monte Carlo errors of a rate alpha."""
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)


def test_size_on_series_without_a_rise():
    rate, _ = _fail_rate(_null_config(), reps=400, seed=101)
    assert rate <= _size_bar(0.05, 400), rate


def test_series_picked_after_a_spike_fail_in_most_cases():
    """The worst of 340 series (about the number of Dutch municipalities) over five years."""
    rate, _ = _fail_rate(_spike_config(340, 260), reps=100, seed=202)
    assert rate > 0.5, rate


@pytest.mark.slow
def test_size_and_power_full():
    """1000 series without a rise (single and controlled ITS), 300 picked after a spike."""
    rate, _ = _fail_rate(_null_config(), reps=1000, seed=303)
    assert rate <= _size_bar(0.05, 1000), rate
    # the rule fails a rise at one-sided level alpha / 2
    assert rate <= _size_bar(0.025, 1000), rate
    controlled = SimulationConfig(n_units=2, n_treated=1, n_periods=N_PRE + N_POST, start=N_PRE,
                                  events_per_period=24, population_sd=0.0, unit_effect_sd=0.0,
                                  period_sd=0.1, persistence=0.8, deviation_sd=0.3, design="its",
                                  controls=("GM0002",),
                                  analysis={"model": "quasi_poisson", "inference": "auto"})
    rate_c, _ = _fail_rate(controlled, reps=400, seed=304)
    assert rate_c <= _size_bar(0.05, 400), rate_c
    power, _ = _fail_rate(_spike_config(340, 260), reps=300, seed=305)
    assert power > 0.65, power
    power_156, _ = _fail_rate(_spike_config(340, 156), reps=300, seed=306)
    assert power_156 > 0.45, power_156


# --- (6) the sentences in both languages ---------------------------------------------------------
def test_the_page_words_the_its_check_for_one_series():
    values = {"periods": 8, "estimate": 2.5, "p_value": 0.012, "design": "its"}
    fail = check_sentence({"kind": "recent_rise", "status": "fail", "values": values}, "nl")
    assert fail.startswith("De reeks had vlak vóór de start opvallend veel aanslagen ten opzichte "
                           "van haar eerdere verloop; een daling daarna kan een terugkeer naar "
                           "normaal zijn")
    assert "perioden (window.exclude) of een latere start" in fail
    assert "(de laatste 8 perioden vóór de start tegen de eerdere: schatting 2,50, p = 0,012)" \
        in fail
    assert "interventiegebieden" not in fail
    en = check_sentence({"kind": "recent_rise", "status": "fail", "values": values}, "en")
    assert en.startswith("The series had strikingly many attacks just before the start")
    assert "(the last 8 periods before the start against the earlier ones: estimate 2.50, " \
           "p = 0.012)" in en
    passed = {"kind": "recent_rise", "status": "pass", "values": {**values, "estimate": 1.1,
                                                                  "p_value": 0.4}}
    assert check_sentence(passed, "nl").startswith("De reeks had in de perioden vlak vóór de "
                                                   "start geen opvallende stijging")
    assert check_sentence(passed, "en").startswith("The series had no striking rise")
    skipped = {"kind": "recent_rise", "status": "skipped",
               "values": {"skip_code": "short_pre_period", "design": "its"}}
    assert check_sentence(skipped, "nl").startswith("Niet uitgevoerd: de periode vóór de start "
                                                    "is te kort")
    assert check_sentence(skipped, "en").startswith("Not run: the period before the start is "
                                                    "too short")
    assert check_name("recent_rise", "nl") == "Piek vlak vóór de start"
    # the DiD check (no design in its values) keeps its own sentence
    did = check_sentence({"kind": "recent_rise", "status": "fail", "values": {}}, "nl")
    assert did.startswith("De interventiegebieden hadden vlak vóór de start")


def test_a_real_check_renders_in_both_languages():
    check = check_recent_rise(_data(_jumped(_counts()))).to_dict()
    for lang, start in (("nl", "De reeks had vlak vóór de start"),
                        ("en", "The series had strikingly many attacks")):
        sentence = check_sentence(check, lang)
        assert sentence.startswith(start) and "(" in sentence, sentence
