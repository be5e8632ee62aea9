"""Simulated data with a known truth, for tests, calibration and the diagnosis.

`panels` simulates unit x period count panels with a planted rate ratio; `series` single and
controlled weekly series; `null_model` fits the design's own pre-start history and simulates from it.
"""
