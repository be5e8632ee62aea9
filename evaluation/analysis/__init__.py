"""The analysis layer: one registered design run on its data, judged by its registered rule.

`prepare` turns a design and its data source into `PreparedData`; `run` is `analyse()` (registration
check, estimators, verdict, files); `decision` is the verdict rule as data and pure functions;
`result` is the read-only `AnalysisResult`, exactly what `analyses/<id>/` holds.
"""
