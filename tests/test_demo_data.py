"""The synthetic demo data: exact calibration, determinism, planted truth, and the demo designs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import defaults
from evaluation.cli import main as cli_main
from evaluation.demo.data import generate_demo_data, write_demo_data
from evaluation.design.model import load_design
from evaluation.errors import DataError

REPO = Path(__file__).resolve().parents[1]
OTHER_SEED = 7

# The brief's table, written out here independently of the generator's own constants.
PLANTED = {
    "fl-01-school-visits": ({"GM0599": "2025-03-03", "GM0518": "2025-03-03"}, 0.65, "effective"),
    "fl-02-sport-club-workshops": (
        {"GM0034": "2025-02-03", "GM0344": "2025-03-03", "GM0855": "2025-03-31"}, 0.90, "modest"),
    "fl-03-anonymous-reporting": ({"GM0363": "2025-04-07"}, 1.00, "null"),
    "fl-04-housing-data-sharing": (
        {"GM0796": "2025-05-05", "GM0772": "2025-05-05", "GM0758": "2025-05-05"}, 0.70, "effective"),
    "fl-05-f4-fireworks-enforcement": ({"GM0202": "2025-09-22", "GM0268": "2025-09-22"}, 1.00, "null"),
    "fl-06-closure-powers": (
        {"GM0014": "2025-06-02", "GM0479": "2025-06-30", "GM0392": "2025-07-28"}, 0.85, "modest"),
    "fl-07-street-coaches": ({"GM0307": "2025-05-12", "GM0200": "2025-05-12"}, 0.75, "effective"),
    "fl-08-social-media-campaign": ({"GM0995": "2025-03-17", "GM0505": "2025-03-17"}, 1.30, "backfire"),
}
TREATED = sorted({unit for starts, _, _ in PLANTED.values() for unit in starts})
TOP_FIVE_2024 = ["GM0363", "GM0599", "GM0518", "GM0034", "GM0796"]


@pytest.fixture(scope="module")
def demo():
    return generate_demo_data()


@pytest.fixture(scope="module")
def demo_other():
    return generate_demo_data(seed=OTHER_SEED)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return {
        "a": write_demo_data(root / "a"),
        "b": write_demo_data(root / "b", seed=defaults.DEMO_SEED),
        "other": write_demo_data(root / "other", seed=OTHER_SEED),
    }


def _year(incidents: pd.DataFrame, year: int) -> pd.DataFrame:
    return incidents.loc[incidents["date"].str.startswith(str(year))]


# --- calibration: exact -----------------------------------------------------------------------
@pytest.mark.parametrize("which", ["demo", "demo_other"])
def test_yearly_totals_and_2024_target_types_are_exact(which, request):
    incidents = request.getfixturevalue(which).incidents
    assert len(_year(incidents, 2023)) == 901
    assert len(_year(incidents, 2024)) == 1543
    assert _year(incidents, 2024)["target_type"].value_counts().to_dict() == {
        "woning": 1119, "bedrijf": 230, "voertuig": 154, "overig": 40}
    assert incidents["date"].min() >= "2023-01-01" and incidents["date"].max() <= "2025-12-31"


@pytest.mark.parametrize("which", ["demo", "demo_other"])
def test_top_five_of_2024_in_order(which, request):
    counts = _year(request.getfixturevalue(which).incidents, 2024)["municipality_code"].value_counts()
    assert counts.index[:5].tolist() == TOP_FIVE_2024
    assert (np.diff(counts.iloc[:6].to_numpy()) < 0).all()  # strict: no ties around the top five


def test_2025_is_drawn_not_fixed(demo, demo_other):
    n_2025 = len(_year(demo.incidents, 2025)), len(_year(demo_other.incidents, 2025))
    assert n_2025[0] != n_2025[1]
    # roughly flat against 2024 (1,543) once the planted effects are accounted for
    assert all(1350 < n < 1750 for n in n_2025)


def test_realistic_shape(demo):
    incidents = demo.incidents
    by_unit = _year(incidents, 2024)["municipality_code"].value_counts()
    assert by_unit.iloc[:10].sum() > 0.5 * 1543  # strong concentration
    assert 342 - len(by_unit) > 100  # many municipalities without any attack in a year
    daily = incidents.groupby("date").size().reindex(
        pd.date_range("2023-01-01", "2025-12-31").strftime("%Y-%m-%d"), fill_value=0)
    new_year = daily[daily.index.str[5:].isin(["12-31", "01-01"])]
    assert new_year.mean() > 2.5 * daily.mean()
    winter = daily[daily.index.str[5:7].isin(["11", "12", "01"])].mean()
    summer = daily[daily.index.str[5:7].isin(["06", "07", "08"])].mean()
    assert winter > 1.2 * summer
    assert 0.65 < (incidents["outcome"] == "explosie").mean() < 0.75
    # series: attacks in the same neighbourhood within ten days of the previous one
    ordered = incidents.assign(day=pd.to_datetime(incidents["date"])).sort_values(["neighbourhood_code", "day"])
    gap = ordered.groupby("neighbourhood_code")["day"].diff().dt.days
    in_series = gap <= 10
    assert in_series.mean() > 0.15
    # ... which share their target type far more often than two random attacks would
    same_type = ordered["target_type"].eq(ordered.groupby("neighbourhood_code")["target_type"].shift())
    assert same_type[in_series].mean() > 0.85


def test_weekly_counts_are_overdispersed(demo):
    weekly = (demo.incidents.assign(week=pd.to_datetime(demo.incidents["date"]).dt.to_period("W"))
              .query("municipality_code in @TOP_FIVE_2024 and week.dt.year == 2024")
              .groupby(["municipality_code", "week"]).size())
    ratios = weekly.groupby(level=0).agg(lambda s: s.var() / s.mean())
    assert ratios.median() > 1.1


# --- codes and tables -------------------------------------------------------------------------
def test_codes_are_well_formed_and_consistent(demo):
    incidents, units = demo.incidents, demo.units
    assert list(incidents.columns) == ["incident_id", "date", "municipality_code", "municipality",
                                       "target_type", "outcome", "neighbourhood_code"]
    assert incidents["incident_id"].is_unique and incidents["incident_id"].str.match(r"^DEMO-\d{6}$").all()
    assert incidents["municipality_code"].str.match(r"^GM\d{4}$").all()
    assert incidents["neighbourhood_code"].str.match(r"^BU\d{8}$").all()
    assert (incidents["neighbourhood_code"].str[2:6] == incidents["municipality_code"].str[2:]).all()
    assert set(incidents["target_type"]) == set(defaults.TARGET_TYPES)
    assert set(incidents["outcome"]) == set(defaults.OUTCOMES)
    pd.to_datetime(incidents["date"], format="%Y-%m-%d")  # raises on a malformed date
    assert list(units.columns) == ["code", "name", "year", "population"]
    # 342 municipalities up to 2024; on 1 January 2025 GM9128 and GM9156 merge into GM9325
    assert units["code"].nunique() == 343 and len(units) == 342 * 3 - 2 + 1
    years = units.groupby("code")["year"].apply(sorted).map(tuple)
    assert (years.drop(["GM9128", "GM9156", "GM9325"]) == (2023, 2024, 2025)).all()
    assert (years["GM9128"], years["GM9156"], years["GM9325"]) == ((2023, 2024),) * 2 + ((2025,),)
    assert (units["population"] > 0).all() and units["code"].str.match(r"^GM\d{4}$").all()
    names = units.drop_duplicates("code").set_index("code")["name"]
    assert (incidents["municipality"] == incidents["municipality_code"].map(names)).all()
    assert names["GM0518"] == "Den Haag" and names["GM0796"] == "'s-Hertogenbosch"


def test_the_reference_lists_every_code_and_the_one_merger(demo):
    reference = demo.municipalities.set_index("code")
    assert list(demo.municipalities.columns) == ["code", "name", "valid_from", "valid_to", "successor"]
    assert set(demo.incidents["municipality_code"]) <= set(reference.index) == set(demo.units["code"])
    ended = reference.loc[reference["successor"] != ""]
    assert ended[["valid_to", "successor"]].to_dict("index") == {
        "GM9128": {"valid_to": "2024-12-31", "successor": "GM9325"},
        "GM9156": {"valid_to": "2024-12-31", "successor": "GM9325"}}
    assert reference.loc["GM9325", "valid_from"] == "2025-01-01"
    by_code = demo.incidents.groupby("municipality_code")["date"].agg(["min", "max"])
    assert by_code.loc[["GM9128", "GM9156"], "max"].max() < "2025-01-01" <= by_code.loc["GM9325", "min"]
    population = demo.units.set_index(["code", "year"])["population"]
    grown = population[("GM9128", 2024)] + population[("GM9156", 2024)]
    assert 1.0 < population[("GM9325", 2025)] / grown < 1.02  # one more year of growth


def test_neighbours_cover_treated_units_with_untreated_neighbours(demo):
    pairs = demo.neighbours
    codes = set(demo.units["code"])
    assert list(pairs.columns) == ["unit", "neighbour"]
    assert set(pairs["unit"]) <= codes and set(pairs["neighbour"]) <= codes
    assert not (pairs["unit"] == pairs["neighbour"]).any()
    as_set = set(map(tuple, pairs.to_numpy()))
    assert all((b, a) in as_set for a, b in as_set)  # symmetric
    per_unit = pairs.groupby("unit")["neighbour"].agg(list)
    for unit in TREATED:
        assert 2 <= len(per_unit[unit]) <= 4
        assert not set(per_unit[unit]) & set(TREATED)


# --- files: determinism, --until --------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(written):
    for name in ("incidents", "units", "neighbours", "municipalities", "ground_truth"):
        assert written["a"][name].read_bytes() == written["b"][name].read_bytes(), name
    assert written["a"]["incidents"].read_bytes() != written["other"]["incidents"].read_bytes()
    assert written["a"]["ground_truth"].read_bytes() != written["other"]["ground_truth"].read_bytes()


def test_files_are_labelled_synthetic(written):
    truth = json.loads(written["a"]["ground_truth"].read_text(encoding="utf-8"))
    assert truth["synthetic"] is True and "SYNTHETIC" in truth["notice"]
    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "GM9001" in readme


def test_until_drops_later_incidents_and_keeps_ids(tmp_path, written):
    out = tmp_path / "early"
    assert cli_main(["demo-data", "--out", str(out), "--until", "2025-03-02"]) == 0
    early = pd.read_csv(out / "incidents.csv", dtype=str)
    full = pd.read_csv(written["a"]["incidents"], dtype=str)
    assert early["date"].max() <= "2025-03-02"
    pd.testing.assert_frame_equal(early, full.loc[full["date"] <= "2025-03-02"].reset_index(drop=True))
    assert len(early) < len(full)
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["incidents_until"] == "2025-03-02"
    assert (out / "units.csv").read_bytes() == written["a"]["units"].read_bytes()


def test_bad_arguments_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match=r"until must be a date YYYY-MM-DD, got '2025-02-30'"):
        write_demo_data(tmp_path, until="2025-02-30")
    with pytest.raises(DataError, match="seed must be a whole number >= 0"):
        generate_demo_data(seed=-1)
    assert cli_main(["demo-data", "--out", str(tmp_path), "--until", "tomorrow"]) == 1


# --- ground truth -----------------------------------------------------------------------------
def test_ground_truth_lists_the_eight_planted_interventions(demo):
    items = {item["id"]: item for item in demo.ground_truth["interventions"]}
    assert list(items) == list(PLANTED)
    for item_id, (starts, rate_ratio, kind) in PLANTED.items():
        item = items[item_id]
        assert item["units"] == list(starts) and item["starts"] == starts
        assert item["true_rate_ratio"] == rate_ratio and item["kind"] == kind
        ends = {u: (dt.date.fromisoformat(s) + dt.timedelta(days=99)).isoformat() for u, s in starts.items()}
        assert item["ends"] == ends and item["end"] == max(ends.values())
        assert all(dt.date.fromisoformat(s).weekday() == 0 for s in starts.values())  # Mondays
        for expected in item["expected_in_window"].values():
            assert expected["with_effect"] == pytest.approx(expected["counterfactual"] * rate_ratio, abs=0.01)


@pytest.mark.parametrize("which", ["demo", "demo_other"])
def test_treated_units_have_enough_attacks_before_their_start(which, request):
    # The 52 weeks before each start: fl-01's units are big (>= 60 each), every pilot unit has a
    # real series (>= 10), and the effective pilots have >= 80 together, so effects can be seen.
    incidents = request.getfixturevalue(which).incidents
    incidents = incidents.assign(day=pd.to_datetime(incidents["date"]))
    for item_id, (starts, _, kind) in PLANTED.items():
        counts = {}
        for unit, start in starts.items():
            start = pd.Timestamp(start)
            counts[unit] = int(((incidents["municipality_code"] == unit)
                                & (incidents["day"] >= start - pd.Timedelta(weeks=52))
                                & (incidents["day"] < start)).sum())
        minimum = 60 if item_id == "fl-01-school-visits" else 10
        assert min(counts.values()) >= minimum, (item_id, counts)
        if kind == "effective":
            assert sum(counts.values()) >= 80, (item_id, counts)


def test_effects_are_visible_in_window_across_seeds():
    # Pooled over a few seeds, the drawn counts in the windows follow the planted truth: the
    # effective pilots fall clearly below their counterfactual, the backfire rises above it.
    observed: dict[str, int] = {}
    counterfactual: dict[str, float] = {}
    for seed in (1, 2, 3, 4):
        for item in generate_demo_data(seed=seed).ground_truth["interventions"]:
            observed[item["kind"]] = observed.get(item["kind"], 0) + sum(item["observed_in_window"].values())
            cf = sum(v["counterfactual"] for v in item["expected_in_window"].values())
            counterfactual[item["kind"]] = counterfactual.get(item["kind"], 0.0) + cf
    ratio = {kind: observed[kind] / counterfactual[kind] for kind in observed}
    assert ratio["effective"] < 0.82 and ratio["backfire"] > 1.1
    assert 0.85 < ratio["null"] < 1.15 and ratio["effective"] < ratio["modest"] < ratio["null"]


@pytest.mark.slow
def test_planted_rate_ratios_hold_in_expectation():
    # Per unit, the mean count drawn in the window over 60 seeds matches the expected count with
    # the effect within 4 standard errors, and the pooled ratio per intervention is the planted one.
    draws: dict[tuple[str, str], list[int]] = {}
    expected: dict[tuple[str, str], float] = {}
    for seed in range(100, 160):
        for item in generate_demo_data(seed=seed).ground_truth["interventions"]:
            for unit, n in item["observed_in_window"].items():
                draws.setdefault((item["id"], unit), []).append(n)
                expected[(item["id"], unit)] = item["expected_in_window"][unit]["with_effect"]
    for key, values in draws.items():
        values = np.asarray(values)
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - expected[key]) < 4 * se + 0.05, key


# --- design files -----------------------------------------------------------------------------
def test_design_files_load_and_match_the_planted_units_and_starts(demo):
    files = sorted((REPO / "designs").glob("fl-*.yaml"))
    assert [f.stem for f in files] == list(PLANTED)
    truth = {item["id"]: item for item in demo.ground_truth["interventions"]}
    for path in files:
        design = load_design(path)
        assert design.id == path.stem
        item = truth[design.id]
        assert list(design.treatment.units) == item["units"]
        starts = {u: design.treatment.start_of(u).isoformat() for u in design.treatment.units}
        assert starts == item["starts"]
        assert design.window.end.isoformat() == item["end"]
        assert design.design == ("its" if design.id in {"fl-03-anonymous-reporting", "fl-07-street-coaches"} else "did")
        assert design.data.from_store and design.data.frequency == "week" and design.analysis.bayesian
        if design.design == "did":
            assert design.window.start == dt.date(2024, 1, 1) and design.controls == "untreated"
            assert design.data.exposure == "population"
        else:
            assert design.window.start == dt.date(2023, 1, 2) and design.analysis.seasonality == 2
            # controlled ITS against every municipality without a pilot: `untreated`, from which
            # prepare() leaves out the units that other pilots treat
            assert design.controls == "untreated"
        assert "Gemeente" in design.owner or "Politie" in design.owner
