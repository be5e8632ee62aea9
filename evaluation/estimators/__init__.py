"""The estimators: pure functions from `PreparedData` to `EstimatorOutput`.

`prepared` is the analysis data set every estimator receives; `output` what each returns (primary
estimate, tidy table, checks, series); `stats` the small statistics they share; `core` the one
entry point used by both the analysis and the diagnosis; `did`, `its` and `bayes` the methods.
"""
