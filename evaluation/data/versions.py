"""Data versions: the numbered states of the incident store, their hashes and their history.

Every import, correction or retraction that changes the data appends one row to
`data_versions` with the SHA-256 of the data as they stand after it (see `schema.state_sha256`).
An analysis records the version it used, and the same version always gives the same data, so
analysing a design on an older version reproduces the older result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from evaluation.data.schema import latest_version, state_sha256
from evaluation.data.store import connect, require_versioned
from evaluation.errors import DataError

HISTORY_COLUMNS = (
    "version", "kind", "file", "file_sha256", "rows_read", "rows_stored",
    "rows_already_present", "rows_quarantined", "note", "sha256",
)


@dataclass(frozen=True)
class DataVersion:
    """One data version of a store: its number and the hash of its data."""

    number: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "sha256": self.sha256}


def resolve_version(
    con: duckdb.DuckDBPyConnection, db_path: str | Path, version: int | None
) -> DataVersion:
    """Data version `version` of the store (None: the latest), or a DataError naming the range."""
    require_versioned(con, db_path)
    latest = latest_version(con)
    if latest == 0:
        raise DataError(
            f"{db_path}: the incident store is empty; import incidents with "
            "`evaluation data import FILE`"
        )
    number = latest if version is None else int(version)
    if not 1 <= number <= latest:
        raise DataError(
            f"data version {version}: the store {db_path} has versions 1 to {latest}; "
            "see `evaluation data history`"
        )
    sha = con.execute("SELECT sha256 FROM data_versions WHERE version = ?", [number]).fetchone()
    return DataVersion(number=number, sha256=sha[0])


def history(db_path: str | Path) -> list[dict[str, Any]]:
    """Every data version of the store, oldest first (the rows of `data_versions`)."""
    with connect(db_path, read_only=True) as con:
        require_versioned(con, db_path)
        rows = con.execute(
            f"SELECT {', '.join(HISTORY_COLUMNS)} FROM data_versions ORDER BY version"
        ).fetchall()
    return [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in rows]


@dataclass(frozen=True)
class VersionCheck:
    """The recomputed hash of each checked version against the recorded one."""

    checked: tuple[int, ...]
    mismatches: tuple[str, ...]  # "version 3: recorded 1a2b..., now 9f8e..."

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify_versions(db_path: str | Path, *, every: bool = False) -> VersionCheck:
    """Recompute the data hash of the latest version (or of every version) from the records.

    A mismatch means the store was changed outside `evaluation` (records edited or deleted):
    results that name that version can no longer be reproduced from this store.
    """
    with connect(db_path, read_only=True) as con:
        require_versioned(con, db_path)
        recorded = con.execute("SELECT version, sha256 FROM data_versions ORDER BY version")
        rows = recorded.fetchall()
        if not every:
            rows = rows[-1:]
        mismatches = []
        for number, sha in rows:
            now = state_sha256(con, number)
            if now != sha:
                mismatches.append(f"version {number}: recorded {sha[:12]}..., now {now[:12]}...")
    return VersionCheck(checked=tuple(n for n, _ in rows), mismatches=tuple(mismatches))
