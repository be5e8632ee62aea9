"""The fixed map behind the synthetic demo data: 342 municipalities, populations, neighbours.

The map does not depend on the demo seed (a fixed internal seed draws it), so design files can
name units and the seed changes only the incidents. The 18 municipalities that appear in the
Field Lab pilots or the national top five carry their real CBS code, name and (rounded)
population; the other 324 are synthetic (`GM9001` .. `GM9324`, "Demogemeente NNN").
Coordinates are used only to find neighbours and are not written anywhere.

One synthetic merger (herindeling) happens on 1 January 2025: Demogemeente 128 and 156 become
Demogemeente 325 (GM9325). From that day their incidents and population carry the new code, and
the municipality reference (`municipalities.csv`) records the succession, so that analyses
exercise the mapping of both onto one boundary year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

N_MUNICIPALITIES = 342
YEARS: tuple[int, ...] = (2023, 2024, 2025)
# Independent of the demo seed on purpose: the map is part of the scenario, not of the noise.
GEOGRAPHY_SEED = 342_2023
SYNTHETIC_PREFIX = "GM9"

# code, name, population 1 Jan 2023 (rounded), latitude, longitude.
REAL_MUNICIPALITIES: tuple[tuple[str, str, int, float, float], ...] = (
    ("GM0363", "Amsterdam", 918_000, 52.37, 4.90),
    ("GM0599", "Rotterdam", 656_000, 51.92, 4.48),
    ("GM0518", "Den Haag", 553_000, 52.08, 4.30),
    ("GM0344", "Utrecht", 362_000, 52.09, 5.12),
    ("GM0772", "Eindhoven", 238_000, 51.44, 5.48),
    ("GM0014", "Groningen", 237_000, 53.22, 6.57),
    ("GM0855", "Tilburg", 222_000, 51.56, 5.09),
    ("GM0034", "Almere", 218_000, 52.37, 5.22),
    ("GM0758", "Breda", 185_000, 51.59, 4.78),
    ("GM0268", "Nijmegen", 180_000, 51.84, 5.86),
    ("GM0200", "Apeldoorn", 166_000, 52.21, 5.97),
    ("GM0202", "Arnhem", 165_000, 51.98, 5.91),
    ("GM0392", "Haarlem", 162_000, 52.38, 4.64),
    ("GM0479", "Zaanstad", 158_000, 52.46, 4.82),
    ("GM0307", "Amersfoort", 160_000, 52.16, 5.39),
    ("GM0796", "'s-Hertogenbosch", 158_000, 51.69, 5.30),
    ("GM0505", "Dordrecht", 120_000, 51.81, 4.67),
    ("GM0995", "Lelystad", 80_000, 52.52, 5.47),
)

# The synthetic merger: two small neighbouring municipalities, far from every pilot.
MERGER_DATE = dt.date(2025, 1, 1)
MERGED_CODES: tuple[str, ...] = ("GM9128", "GM9156")
SUCCESSOR_CODE, SUCCESSOR_NAME = "GM9325", "Demogemeente 325"

# Rough bounding box of the Netherlands for the synthetic municipalities' centres.
_LAT_RANGE = (51.25, 53.40)
_LON_RANGE = (3.60, 7.10)
_KM_PER_DEG_LAT = 111.2
_KM_PER_DEG_LON = 68.0  # at about 52 degrees north


@dataclass(frozen=True)
class DemoMap:
    """The fixed scenario map; `municipalities` has one row per municipality."""

    municipalities: pd.DataFrame  # code, name, population_2023, lat, lon, synthetic, neighbourhoods
    units: pd.DataFrame  # code, name, year, population (the units.csv table)
    neighbours: pd.DataFrame  # unit, neighbour (symmetric, the neighbours.csv table)
    reference: pd.DataFrame  # code, name, valid_from, valid_to, successor (municipalities.csv)


def build_map() -> DemoMap:
    """The scenario map (deterministic; identical for every demo seed)."""
    rng = np.random.default_rng(GEOGRAPHY_SEED)
    municipalities = _municipalities(rng)
    return DemoMap(
        municipalities=municipalities,
        units=_merge_population(_population_table(municipalities, rng)),
        neighbours=_neighbours(municipalities, rng),
        reference=_reference(municipalities),
    )


def _reference(municipalities: pd.DataFrame) -> pd.DataFrame:
    """The municipality list as a reference file: open-ended, but for the merger."""
    ended = municipalities["code"].isin(MERGED_CODES)
    last_day = (MERGER_DATE - dt.timedelta(days=1)).isoformat()
    table = pd.DataFrame({
        "code": municipalities["code"], "name": municipalities["name"], "valid_from": "",
        "valid_to": np.where(ended, last_day, ""), "successor": np.where(ended, SUCCESSOR_CODE, ""),
    })
    successor = pd.DataFrame([{"code": SUCCESSOR_CODE, "name": SUCCESSOR_NAME,
                               "valid_from": MERGER_DATE.isoformat(), "valid_to": "",
                               "successor": ""}])
    return pd.concat([table, successor], ignore_index=True).sort_values("code", ignore_index=True)


def _merge_population(units: pd.DataFrame) -> pd.DataFrame:
    """From the merger's year on, the successor's population replaces its predecessors'."""
    after = (units["year"] >= MERGER_DATE.year) & units["code"].isin(MERGED_CODES)
    merged = (units.loc[after].groupby("year", as_index=False)["population"].sum()
              .assign(code=SUCCESSOR_CODE, name=SUCCESSOR_NAME))
    return (pd.concat([units.loc[~after], merged[list(units.columns)]], ignore_index=True)
            .sort_values(["code", "year"], ignore_index=True))


def registered_after_merger(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents as registered on their date: from the merger on, the successor's code and name,
    and its neighbourhood codes (wijk numbers of the second predecessor moved up by 50, as CBS
    renumbers the neighbourhoods of a new municipality). `date` holds ISO date strings."""
    moved = incidents["municipality_code"].isin(MERGED_CODES) & (
        incidents["date"] >= MERGER_DATE.isoformat())
    hood = incidents["neighbourhood_code"]
    offset = incidents["municipality_code"].map({c: 50 * i for i, c in enumerate(MERGED_CODES)})
    renumbered = ("BU" + SUCCESSOR_CODE[2:]
                  + (hood.str[6:8].where(moved, "0").astype(int) + offset.fillna(0).astype(int))
                  .map("{:02d}".format) + hood.str[8:])
    return incidents.assign(
        municipality_code=incidents["municipality_code"].where(~moved, SUCCESSOR_CODE),
        municipality=incidents["municipality"].where(~moved, SUCCESSOR_NAME),
        neighbourhood_code=hood.where(~moved, renumbered),
    )


def _municipalities(rng: np.random.Generator) -> pd.DataFrame:
    real = pd.DataFrame(REAL_MUNICIPALITIES, columns=["code", "name", "population_2023", "lat", "lon"])
    real["synthetic"] = False
    n_synthetic = N_MUNICIPALITIES - len(real)
    # Dutch municipalities are small: median about 28,000 inhabitants, long right tail. Capped
    # below the smallest real city in the table so that the named cities stay the big ones.
    population = np.exp(rng.normal(np.log(28_000), 0.65, size=n_synthetic))
    population = np.clip(population, 1_000, 140_000).round(-2).astype(int)
    synthetic = pd.DataFrame({
        "code": [f"{SYNTHETIC_PREFIX}{i:03d}" for i in range(1, n_synthetic + 1)],
        "name": [f"Demogemeente {i:03d}" for i in range(1, n_synthetic + 1)],
        "population_2023": population,
        "lat": rng.uniform(*_LAT_RANGE, size=n_synthetic).round(3),
        "lon": rng.uniform(*_LON_RANGE, size=n_synthetic).round(3),
        "synthetic": True,
    })
    table = pd.concat([real, synthetic], ignore_index=True)
    # About one neighbourhood (buurt) per 2,500 inhabitants, at least 4: enough spread that a
    # series of attacks in one neighbourhood stands out.
    table["neighbourhoods"] = np.clip(table["population_2023"] // 2_500, 4, 400).astype(int)
    return table


def _population_table(municipalities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    growth = rng.normal(0.006, 0.004, size=len(municipalities))  # yearly growth rate per municipality
    rows = []
    for year in YEARS:
        factor = (1.0 + growth) ** (year - YEARS[0])
        population = (municipalities["population_2023"].to_numpy() * factor).round().astype(int)
        rows.append(pd.DataFrame({
            "code": municipalities["code"], "name": municipalities["name"],
            "year": year, "population": population,
        }))
    return pd.concat(rows, ignore_index=True).sort_values(["code", "year"], ignore_index=True)


def _neighbours(municipalities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Each municipality's 2-4 nearest synthetic municipalities, made symmetric.

    Neighbours are drawn from the synthetic municipalities only, so no treated municipality is a
    neighbour of another: a displacement check on a pilot's neighbours then looks at untreated units.
    """
    y = municipalities["lat"].to_numpy() * _KM_PER_DEG_LAT
    x = municipalities["lon"].to_numpy() * _KM_PER_DEG_LON
    distance = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(distance, np.inf)
    synthetic = municipalities["synthetic"].to_numpy()
    distance[:, ~synthetic] = np.inf
    codes = municipalities["code"].to_numpy()
    k = rng.integers(2, 5, size=len(codes))  # 2, 3 or 4 nearest
    pairs: set[tuple[str, str]] = set()
    for i, code in enumerate(codes):
        for j in np.argsort(distance[i], kind="stable")[: k[i]]:
            pairs.add((code, codes[j]))
            pairs.add((codes[j], code))
    return pd.DataFrame(sorted(pairs), columns=["unit", "neighbour"])


def neighbourhood_codes(code: str, count: int) -> list[str]:
    """CBS-style neighbourhood codes `BU` + municipality digits + wijk (2) + buurt (2)."""
    digits = code.removeprefix("GM")
    return [f"BU{digits}{i // 10:02d}{i % 10:02d}" for i in range(count)]
