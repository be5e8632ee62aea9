"""The data layer: incident files in, analysis-ready panels out. Imports nothing above it.

`file_table` reads a delivered incident file into DuckDB and `validation` checks its rows there;
`store` imports them (quarantine, idempotency) as a new data version (`schema`, `versions`);
`corrections` appends corrections and retractions; `municipalities` holds the reference and the
boundaries analyses map codes onto; `units` holds population per municipality and year (number
formats by `numbers`); `summary` answers `data summary`; `tables` reads small CSV/Parquet tables;
`periods` is the period arithmetic and labels; `panel` turns the store at a data version into
balanced unit x period count panels; `panel_file` reads and validates panel files.
"""
