"""Reading CSV and Parquet table files into clean pandas frames (shared by store and panels)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.errors import DataError, format_rows


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a large delivery is never held whole)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def semicolon_separated(header: str) -> bool:
    """A header line with more ';' than ',' is a Dutch (Excel) CSV: ';' separates, ',' is decimal."""
    return header.count(";") > header.count(",")


def read_table_file(
    path: str | Path, *, as_text: bool, text_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a CSV or Parquet file. `as_text`: every value a stripped string, '' when missing.

    `text_columns` are read as text even when `as_text` is false (codes such as `0363` keep
    their leading zeros); missing values there are NaN.

    CSV files may have old-Mac CR line endings, a UTF-8 byte-order mark, `;` as separator (Dutch
    Excel, then `,` is the decimal mark) and an empty trailing column (a `,` at the end of every
    line); all are handled here so that callers see clean columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found; give the path of a .csv or .parquet file")
    if path.suffix.lower() in {".parquet", ".pq"}:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a corrupt file
            raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
        if as_text:
            return _as_text(frame)
        text = [c for c in text_columns if c in frame.columns]
        return frame.assign(**{c: _as_text(frame[[c]])[c].replace("", np.nan) for c in text})
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    semicolon = semicolon_separated(text.split("\n", 1)[0])
    options = {"sep": ";", "decimal": ","} if semicolon else {"sep": ","}
    try:
        if as_text:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, **options)
        else:
            frame = pd.read_csv(
                io.StringIO(text), dtype=dict.fromkeys(text_columns, str), **options
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None
    frame = _drop_empty_unnamed(frame)
    return frame.apply(lambda col: col.str.strip()) if as_text and len(frame.columns) else frame


def _drop_empty_unnamed(frame: pd.DataFrame) -> pd.DataFrame:
    # A trailing separator on every line gives a nameless, empty column ("Unnamed: 16").
    empty = [
        c
        for c in frame.columns
        if str(c).startswith("Unnamed: ") and frame[c].replace("", np.nan).isna().all()
    ]
    return frame.drop(columns=empty)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            # a date(time) column: its calendar date is the incident date
            text = col.dt.strftime("%Y-%m-%d")
        elif len(col) and isinstance(col.dropna().iloc[0] if col.notna().any() else None, dt.date):
            text = col.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
        else:
            text = col
        out[str(name)] = text.astype(object).where(col.notna(), "").astype(str).str.strip()
    return pd.DataFrame(out, index=frame.index)


def refuse_bad_rows(source: str, checks: dict[str, pd.Series]) -> None:
    """One DataError naming, per failed check, its data rows (1-based); a file checked as a
    whole stores nothing when any row fails."""
    problems = [
        f"{text} (data rows {format_rows(np.flatnonzero(np.asarray(mask, bool)) + 1)})"
        for text, mask in checks.items()
        if np.asarray(mask, bool).any()
    ]
    if problems:
        raise DataError(
            f"{source}: {'; '.join(problems)}; fix these rows and import again (nothing was stored)"
        )


def missing_columns_error(path: Path, missing: list[str], present: list[str]) -> DataError:
    import difflib

    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, present, n=1)
        hints.append(f"`{name}`" + (f" (did you mean `{close[0]}`?)" if close else ""))
    return DataError(
        f"{path}: column(s) {', '.join(hints)} missing; the file has columns "
        f"{', '.join(present) or '(none)'}; rename the column in the file or correct the name "
        "you gave"
    )
