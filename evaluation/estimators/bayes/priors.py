"""Plain statements of the priors (the numbers themselves live in `evaluation.defaults`)."""

from __future__ import annotations

import math

from evaluation import defaults


def rr_interval(log_rr_sd: float) -> tuple[float, float]:
    """The central 95% prior interval of the rate ratio implied by Normal(0, log_rr_sd)."""
    return math.exp(-1.96 * log_rr_sd), math.exp(1.96 * log_rr_sd)


def effect_statement(log_rr_sd: float) -> str:
    low, high = rr_interval(log_rr_sd)
    return (f"log rate ratio ~ Normal(0, {log_rr_sd:.3g}): a priori no effect expected, "
            f"95% of the prior on a rate ratio between {low:.2f} and {high:.2f}")


def dispersion_statement() -> str:
    return (f"1/sqrt(alpha) ~ HalfNormal({defaults.PRIOR_INV_SQRT_DISPERSION_SD:g}) "
            "(negative binomial, variance = mu + mu^2/alpha; 0 is Poisson)")


def deviation_statement(block: int) -> str:
    a, b = defaults.PRIOR_DEVIATION_RHO
    return (f"persistent local deviations: one per unit and block of {block} period(s), "
            f"log-rate spread ~ HalfNormal({defaults.PRIOR_DEVIATION_SD:g}), AR(1) correlation "
            f"between consecutive blocks ~ Beta({a:g}, {b:g}); spread and persistence shared by "
            "all units (learned mostly from the control units)")


def did_priors(*, model: str, log_rr_sd: float,
               outcome_scale: float | None = None) -> dict[str, str]:
    """Statements for the DiD model of `model` (poisson, negative_binomial or linear)."""
    if model == "linear":
        if outcome_scale is None:
            raise ValueError("did_priors: a linear model needs outcome_scale (the treated units' "
                             "mean outcome before the start)")
        sd = log_rr_sd * outcome_scale
        return {
            "effect": (f"difference ~ Normal(0, {sd:.4g}) = {log_rr_sd:g} x the treated units' "
                       f"mean outcome before the start ({outcome_scale:.4g})"),
            "unit_effects": "flat (integrated out analytically: within-unit comparison)",
            "period_effects": (f"ZeroSumNormal({defaults.PRIOR_PERIOD_SD * 2:g} x outcome sd) "
                               "(sum to zero over periods)"),
            "sigma": "residual sd ~ HalfNormal(2 x outcome sd)",
        }
    statements = {
        "effect": effect_statement(log_rr_sd),
        "period_effects": (f"ZeroSumNormal({defaults.PRIOR_PERIOD_SD:g}) on the log rate "
                           "(sum to zero over periods)"),
    }
    if model == "poisson":
        statements["unit_effects"] = ("flat on the log rate; integrated out exactly (given its "
                                      "total, a unit's counts are multinomial over periods)")
    else:
        statements["unit_effects"] = ("flat on the log rate; conditioned out (given its total, a "
                                      "unit's counts are Dirichlet-multinomial over periods)")
        statements["dispersion"] = (f"dispersion - 1 ~ HalfNormal("
                                    f"{defaults.PRIOR_DISPERSION_EXCESS_SD:g}) (variance = "
                                    "dispersion x mean; 1 is Poisson)")
    return statements


def its_priors(*, log_rr_sd: float, slope_change: bool, seasonality: int,
               controlled: bool, latent_block: int | None = None) -> dict[str, str]:
    statements = {
        "level_change": effect_statement(log_rr_sd),
        "intercept": (f"Normal(log observed mean rate, {defaults.PRIOR_INTERCEPT_SD:g}) "
                      + ("per series" if controlled else "")).strip(),
        "trend": (f"Normal(0, {defaults.PRIOR_TREND_SD:g}) for the log-rate change over the window"
                  + (" per series" if controlled else "")),
        "dispersion": dispersion_statement(),
    }
    if slope_change:
        statements["slope_change"] = (f"Normal(0, {log_rr_sd:.3g}) for the extra log-rate change "
                                      "from the start to the end of the post period")
    if seasonality:
        statements["seasonality"] = (f"{seasonality} Fourier harmonic(s), each coefficient "
                                     f"~ Normal(0, {defaults.PRIOR_SEASON_SD:g})")
    if controlled:
        statements["common_shift"] = (f"Normal(0, {defaults.PRIOR_POST_SHIFT_SD:g}): change of "
                                      "both series at the start (not attributed to the "
                                      "intervention)")
    if latent_block is not None:
        a, b = defaults.PRIOR_ITS_LATENT_RHO
        statements["persistent_deviations"] = (
            f"latent AR(1) process per series, one value per block of {latent_block} period(s): "
            f"marginal log-rate sd ~ HalfNormal({defaults.PRIOR_ITS_LATENT_SD:g}), correlation "
            f"between consecutive blocks ~ Beta({a:g}, {b:g})")
    return statements
