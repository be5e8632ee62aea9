"""A delivered CSV or Parquet file as a DuckDB table of trimmed text, read by DuckDB itself.

Incident files can hold millions of rows; DuckDB reads them in parallel without a pandas copy.
Every value becomes text ('' when missing, surrounding spaces removed) so that validation sees
exactly what was delivered, and `row` is the 1-based data row (the header not counted), in file
order. The quirks of real deliveries are handled here: a UTF-8 byte-order mark, old-Mac CR line
ends, `;` as separator (Dutch Excel), an empty trailing column (a separator at the end of every
line) and date columns in Parquet.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from evaluation.data.tables import file_sha256, semicolon_separated
from evaluation.errors import DataError

HEAD_BYTES = 1 << 16
PARQUET_SUFFIXES = {".parquet", ".pq"}


@dataclass(frozen=True)
class FileTable:
    """A file loaded into the temporary table `table` with columns `row` and `columns`."""

    path: Path
    table: str
    columns: tuple[str, ...]
    rows: int
    sha256: str
    dutch: bool  # a ';'-separated CSV (Dutch Excel): ',' is the decimal mark


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_file_table(con: duckdb.DuckDBPyConnection, path: str | Path, *, table: str) -> FileTable:
    """Read `path` into the temporary table `table`; a file that cannot be read is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found; give the path of a .csv or .parquet file")
    sha = file_sha256(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        columns, dutch = _parquet(con, path), False
        select = ", ".join(
            f"{_parquet_text(name, kind)} AS {quoted(_own(name))}" for name, kind in columns
        )
        source = f"read_parquet({_literal(str(path))})"
        names = tuple(_own(name) for name, _ in columns)
    else:
        names, source, dutch = _csv(path)
        select = ", ".join(f"trim(coalesce({quoted(n)}, '')) AS {quoted(_own(n))}" for n in names)
        names = tuple(_own(n) for n in names)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_text AS SELECT {select} FROM {source}")
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
        raise _read_error(path, exc) from None
    names = _drop_empty_unnamed(con, f"{table}_text", names)
    # rows keep the file's order (DuckDB preserves insertion order), so rowid is the data row
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT rowid + 1 AS \"row\", * FROM {table}_text"
    )
    rows = int(con.execute(f"SELECT count(*) FROM {table}_text").fetchone()[0])
    return FileTable(path=path, table=table, columns=names, rows=rows, sha256=sha, dutch=dutch)


def _own(name: str) -> str:
    # `row` is the data row number this module adds; a delivered column of that name is kept
    # under another name rather than lost
    return "row (in file)" if name == "row" else name


def drop_file_table(con: duckdb.DuckDBPyConnection, loaded: FileTable) -> None:
    con.execute(f"DROP VIEW IF EXISTS {loaded.table}")
    con.execute(f"DROP TABLE IF EXISTS {loaded.table}_text")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- CSV ----------------------------------------------------------------------------------------
def _csv(path: Path) -> tuple[tuple[str, ...], str, bool]:
    """Column names, the read_csv call and whether the file is Dutch (';'-separated)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV"
        ) from None
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if not first.strip():
        raise DataError(f"{path}: no header line; the first line must name the columns")
    dutch = semicolon_separated(first)
    delimiter = ";" if dutch else ","
    header = [name.strip() for name in next(csv.reader([first], delimiter=delimiter))]
    names = tuple(name or f"_empty_{i + 1}" for i, name in enumerate(header))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(
            f"{path}: column(s) {', '.join(twice)} appear more than once in the header; "
            "give every column its own name"
        )
    columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names) + "}"
    source = (
        f"read_csv({_literal(str(path))}, header = true, auto_detect = false, delim = '{delimiter}', "
        f"quote = '\"', escape = '\"', columns = {columns})"
    )
    return names, source, dutch


def _drop_empty_unnamed(con, table: str, names: tuple[str, ...]) -> tuple[str, ...]:
    # A separator at the end of every line gives a nameless, empty column.
    keep = list(names)
    for name in names:
        if name.startswith("_empty_"):
            filled = con.execute(
                f"SELECT count(*) FROM {table} WHERE {quoted(name)} <> ''"
            ).fetchone()[0]
            if not filled:
                con.execute(f"ALTER TABLE {table} DROP COLUMN {quoted(name)}")
                keep.remove(name)
    return tuple(keep)


def _read_error(path: Path, exc: duckdb.Error) -> DataError:
    message = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", message)
    where = f"line {line.group(1)}: " if line else ""
    if "not utf-8 encoded" in message.lower() or "invalid unicode" in message.lower():
        at = f" ({where.rstrip(': ')})" if where else ""
        return DataError(f"{path}: not UTF-8 text{at}; save the file as UTF-8 CSV")
    lines = [part.strip() for part in message.splitlines() if part.strip()]
    detail = next(
        (p for p in lines[1:] if not p.startswith(("Original Line", "Possible", "*"))),
        lines[0] if lines else type(exc).__name__,
    )
    kind = "Parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "CSV"
    return DataError(
        f"{path}: not a readable {kind} file ({where}{detail}); fix the file (every line needs "
        "as many fields as the header, quotes must be closed) and import again"
    )


# --- Parquet ------------------------------------------------------------------------------------
def _parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({_literal(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise DataError(
            f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]}); "
            "export the file again"
        ) from None
    return [(str(name), str(kind)) for name, kind, *_ in described]


def _parquet_text(name: str, kind: str) -> str:
    column = quoted(name)
    if kind == "DATE" or kind.startswith("TIMESTAMP"):
        # a date(time) column: its calendar date is the incident date
        text = f"strftime(CAST({column} AS DATE), '%Y-%m-%d')"
    else:
        text = f"CAST({column} AS VARCHAR)"
    return f"trim(coalesce({text}, ''))"
