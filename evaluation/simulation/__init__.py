"""Simulated data with a known truth, for tests, calibration and the diagnosis: one model.

`model.PanelModel` is the one simulation model (unequal unit sizes, overdispersion, seasonality
and trend in the means, persistent AR(1) deviations per unit or series). `synthetic` builds a
synthetic programme from a `SimulationConfig` (`simulate(rng, config, rate_ratio=...)`);
`null_model` fits the model to a design's own pre-start history (the diagnosis); `persistence`
estimates the deviations' AR(1) from a history. `panels.simulate_panel` and
`series.simulate_weekly_counts` are thin wrappers kept for the tests and benchmarks.
"""
