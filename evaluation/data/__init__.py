"""The data layer: incident files in, analysis-ready panels out. Imports nothing above it.

`tables` reads CSV/Parquet files into clean text frames; `store` imports incidents into DuckDB
(validation, quarantine, idempotency); `units` holds population per municipality and year;
`summary` answers `data summary`; `periods` is the period arithmetic and labels; `panel` turns the
store into balanced unit x period count panels; `panel_file` reads and validates panel files.
"""
