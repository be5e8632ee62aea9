"""A summary of the incident store: totals per year, breakdowns and top municipalities."""

from __future__ import annotations

from pathlib import Path

from evaluation import defaults
from evaluation.data.schema import latest_version
from evaluation.data.store import connect, require_versioned

# The 10 most affected municipalities, named by the reference, else by the latest name in the
# units table, never by an incident row.
_TOP = """
WITH top AS (SELECT municipality_code AS code, count(*) AS n FROM incidents GROUP BY 1
             ORDER BY n DESC, code LIMIT 10)
SELECT t.code, coalesce(m.name, u.name), t.n FROM top t
LEFT JOIN municipalities m USING (code)
LEFT JOIN (SELECT code, arg_max(name, year) AS name FROM units GROUP BY code) u USING (code)
ORDER BY t.n DESC, t.code
"""


def summary(db_path: str | Path) -> dict:
    """Totals per year, per target type and outcome by year, the top 10 municipalities, the
    municipality reference and the data version.

    Years are string keys so that the dict equals its JSON form.
    """
    with connect(db_path, read_only=True) as con:
        require_versioned(con, db_path)
        total, first, last = con.execute(
            "SELECT count(*), min(date), max(date) FROM incidents"
        ).fetchone()
        by_year = con.execute(
            "SELECT year(date) AS y, count(*) FROM incidents GROUP BY y ORDER BY y"
        )
        years = {str(y): int(n) for y, n in by_year.fetchall()}
        breakdown = {}
        for column, values in (
            ("target_type", defaults.TARGET_TYPES),
            ("outcome", defaults.OUTCOMES),
        ):
            rows = con.execute(f"SELECT year(date), {column}, count(*) FROM incidents GROUP BY ALL")
            table = {year: dict.fromkeys(values, 0) for year in years}
            for year, value, count in rows.fetchall():
                table[str(year)][value] = int(count)
            breakdown[column] = table
        top = con.execute(_TOP).fetchall()
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        units = con.execute(
            "SELECT count(DISTINCT code), min(year), max(year) FROM units"
        ).fetchone()
        reference = _reference(con)
        version, version_sha = con.execute(
            "SELECT version, sha256 FROM data_versions WHERE version = ?", [latest_version(con)]
        ).fetchone() or (0, None)
        amended = dict(con.execute(
            "SELECT kind, count(*) FROM incident_records WHERE kind <> 'import' GROUP BY kind"
        ).fetchall())
    return {
        "store": str(db_path),
        "incidents": int(total),
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
        "by_year": years,
        "by_target_type": breakdown["target_type"],
        "by_outcome": breakdown["outcome"],
        "top_municipalities": [{"code": c, "name": n, "incidents": int(k)} for c, n, k in top],
        "quarantined_rows": int(quarantined),
        "units": {"codes": int(units[0]), "first_year": units[1], "last_year": units[2]},
        "municipality_reference": reference,
        "corrections": int(amended.get("correction", 0)),
        "retractions": int(amended.get("retraction", 0)),
        "data_version": {"number": int(version), "sha256": version_sha},
    }


def _reference(con) -> dict:
    """Whether a municipality reference is loaded, its size, and stored codes it does not know."""
    codes, current = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) FROM municipalities"
    ).fetchone()
    if not codes:
        return {"loaded": False, "codes": 0, "current": 0, "unknown_codes_in_store": {}}
    unknown = con.execute(
        "SELECT municipality_code, count(*) FROM incidents ANTI JOIN municipalities m "
        "ON m.code = municipality_code GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return {"loaded": True, "codes": int(codes), "current": int(current),
            "unknown_codes_in_store": {c: int(n) for c, n in unknown}}
