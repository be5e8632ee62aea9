"""The design file: schema round trip, every validation message, hash stability, template, data checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import defaults
from evaluation.design.checks import Problem, check_design_against_data
from evaluation.design.model import Design, canonical_json, load_design, parse_design
from evaluation.design.template import PLACEHOLDER_UNIT, design_template
from evaluation.design.texts import design_diff
from evaluation.errors import DesignError

BASE_YAML = """\
id: fl-01-school-visits
title: School visits by youth workers
owner: Jongerenwerk op Zuid
hypothesis: Visits reduce attacks in the visited municipalities by at least 10% within 100 days.
design: did
treatment:
  units: [GM0599, GM0363]
  start: 2025-04-14
window:
  start: 2024-01-01
  end: 2025-07-22
"""


def base() -> dict:
    return yaml.safe_load(BASE_YAML)


def messages_of(data: dict) -> str:
    with pytest.raises(DesignError) as info:
        parse_design(data)
    return str(info.value)


def with_(data: dict, path: str, value) -> dict:
    """A deep copy of `data` with the dotted `path` set to `value`."""
    out = json.loads(json.dumps(data, default=str))
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return out


# --- schema ---------------------------------------------------------------------------------
def test_round_trip_through_canonical_json_and_yaml():
    design = parse_design(base())
    again = Design.model_validate(json.loads(design.canonical_json))
    assert again == design and again.sha256 == design.sha256
    via_yaml = parse_design(yaml.safe_load(yaml.safe_dump(design.canonical)))
    assert via_yaml.sha256 == design.sha256
    assert design.controls == "untreated"  # did default
    assert design.treatment.start == dt.date(2025, 4, 14)


def test_staggered_and_integer_designs_round_trip():
    staggered = with_(base(), "treatment.start", {"GM0599": "2025-04-14", "GM0363": "2025-06-02"})
    design = parse_design(staggered)
    assert design.treatment.staggered and design.treatment.first_start == dt.date(2025, 4, 14)
    assert Design.model_validate(design.canonical).sha256 == design.sha256
    numbered = with_(with_(base(), "treatment.start", 30), "window", {"start": 1, "end": 60})
    design = parse_design(numbered)
    assert design.treatment.start == 30 and isinstance(design.treatment.start, int)
    assert Design.model_validate(design.canonical).sha256 == design.sha256


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("tretment", {}, "tretment: unknown field; did you mean `treatment`?"),
    ("analysis.modle", "poisson", "analysis.modle: unknown field; did you mean `model`?"),
    ("data.frequncy", "week", "data.frequncy: unknown field; did you mean `frequency`?"),
    ("design", "rdd", "design: Input should be 'did' or 'its'"),
    ("analysis.model", "logit", "analysis.model: Input should be"),
    ("window.start", "2024-13-01", "window.start: must be a date (YYYY-MM-DD) or a period number, got '2024-13-01'"),
    ("treatment.start", True, "treatment.start: must be a date (YYYY-MM-DD) or a period number, got True"),
    ("controls", ["GM0599", "GM0001"], "controls: unit(s) GM0599 are also treated"),
    ("controls", [], "controls: the list is empty"),
    ("treatment.start", "2023-04-14", "treatment.start: 2023-04-14 lies outside the window"),
    ("window.exclude", {"start": "2025-04-01", "end": "2025-08-01"},
     "window.exclude: swallows the whole post period"),
    ("window.end", "2023-07-22", "window.end: 2023-07-22 must lie after window.start 2024-01-01"),
    ("window.exclude", {"start": "2025-05-01", "end": "2025-04-01"},
     "window.exclude.end: 2025-04-01 lies before exclude.start 2025-05-01"),
    ("window.exclude", {"start": "2025-05-01"}, "window.exclude.end: required field is missing"),
    ("treatment.start", {"GM0599": "2025-04-14"}, "treatment.start: no start given for treated unit(s) GM0363"),
    ("treatment.start", {"GM0599": "2025-04-14", "GM0363": "2025-14-01"},
     "treatment.start.GM0363: must be a date (YYYY-MM-DD) or a period number, got '2025-14-01'"),
    ("treatment.end", "2025-01-01", "treatment.end: 2025-01-01 must be a date on or after treatment.start"),
    ("treatment.units", ["GM0599", "GM0599"], "treatment.units: a unit is listed twice"),
    ("id", "FL 01", "id: must be a lowercase slug"),
    ("analysis.event_window", [2, 8], "analysis.event_window: must be [lead, lag]"),
    ("decision.min_reduction", 1.5, "decision.min_reduction: Input should be less than 1"),
    ("data.target_types", ["woning", "boot"], "data.target_types.1: Input should be"),
])
def test_validation_message_names_the_field(path, value, expected):
    message = messages_of(with_(base(), path, value))
    assert expected in message
    # one line, and the field path comes right after the source name
    assert "\n" not in message and message.startswith("<design>: " + expected.split(":")[0])


def test_missing_field_and_its_controls():
    data = base()
    del data["hypothesis"]
    assert messages_of(data) == "<design>: hypothesis: required field is missing"
    # an ITS may compare with all never-treated units summed into one series (controlled ITS)
    its = parse_design(with_(with_(base(), "design", "its"), "controls", "untreated"))
    assert its.controls == "untreated"
    assert parse_design(with_(base(), "design", "its")).controls is None


def test_several_problems_are_all_reported():
    data = with_(with_(base(), "analysis.modle", "x"), "design", "rdd")
    message = messages_of(data)
    assert "analysis.modle: unknown field" in message and "design: Input should be" in message


def test_id_must_equal_file_name(tmp_path):
    path = tmp_path / "other-name.yaml"
    path.write_text(BASE_YAML)
    with pytest.raises(DesignError, match=r"id: `fl-01-school-visits` must equal the file name `other-name`"):
        load_design(path)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "fl-01-school-visits.yaml"
    path.write_text(BASE_YAML.replace("units: [GM0599, GM0363]", "units: [GM0599, GM0363"))
    with pytest.raises(DesignError, match=r"not valid YAML at line \d+, column \d+") as info:
        load_design(path)
    line = int(str(info.value).split("at line ")[1].split(",")[0])
    assert 8 <= line <= 10  # the unclosed list on line 8 is found by line 9


def test_yaml_is_never_evaluated(tmp_path):
    path = tmp_path / "fl-01-school-visits.yaml"
    path.write_text(BASE_YAML.replace("title: School visits by youth workers",
                                      "title: !!python/object/apply:os.system ['echo hacked']"))
    with pytest.raises(DesignError, match="not valid YAML"):
        load_design(path)


# --- hash -----------------------------------------------------------------------------------
def test_hash_is_sha256_of_sorted_compact_json():
    design = parse_design(base())
    assert design.canonical_json == json.dumps(design.canonical, sort_keys=True, separators=(",", ":"),
                                               ensure_ascii=False)
    assert design.sha256 == hashlib.sha256(design.canonical_json.encode()).hexdigest()
    assert design.canonical["analysis"]["seed"] == defaults.SEED  # defaults are inside the hash


def test_hash_ignores_key_order_comments_whitespace_and_explicit_defaults():
    reference = parse_design(base()).sha256
    reordered = "\n".join(reversed(BASE_YAML.strip().split("\n", 5)[:5])) + "\n" + BASE_YAML.split("\n", 5)[5]
    assert parse_design(yaml.safe_load(reordered)).sha256 == reference
    commented = "# a comment\n" + BASE_YAML.replace("design: did", "design:    did   # the design\n\n")
    assert parse_design(yaml.safe_load(commented)).sha256 == reference
    explicit = with_(with_(with_(base(), "analysis.seed", defaults.SEED), "controls", "untreated"),
                     "data.frequency", defaults.FREQUENCY)
    assert parse_design(explicit).sha256 == reference
    flow = with_(base(), "treatment", {"start": "2025-04-14", "units": ["GM0599", "GM0363"], "end": None})
    assert parse_design(flow).sha256 == reference


@pytest.mark.parametrize(("path", "value"), [
    ("title", "School visits"), ("treatment.units", ["GM0363", "GM0599"]), ("treatment.start", "2025-04-21"),
    ("window.end", "2025-07-29"), ("analysis.seed", 1), ("analysis.model", "negative_binomial"),
    ("decision.min_reduction", 0.2), ("controls", ["GM0344"]), ("data.exposure", "population"),
])
def test_any_semantic_edit_changes_the_hash(path, value):
    reference = parse_design(base())
    edited = parse_design(with_(base(), path, value))
    assert edited.sha256 != reference.sha256
    assert [c["field"] for c in design_diff(reference.canonical, edited.canonical)] == [path]


def test_canonical_json_is_stable_for_nested_data():
    assert canonical_json({"b": [1, {"z": 1, "a": "é"}], "a": None}) == '{"a":null,"b":[1,{"a":"é","z":1}]}'


# --- template --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["did", "its"])
def test_template_is_a_valid_design_with_default_hash(tmp_path, kind):
    path = tmp_path / "fl-02-cameras.yaml"
    path.write_text(design_template("fl-02-cameras", kind=kind))
    design = load_design(path)
    assert design.design == kind and design.treatment.units == (PLACEHOLDER_UNIT,)
    bare = parse_design({"id": "fl-02-cameras", "title": design.title, "owner": design.owner,
                         "hypothesis": design.hypothesis, "design": kind,
                         "treatment": {"units": [PLACEHOLDER_UNIT], "start": "2025-04-14"},
                         "window": {"start": "2024-01-01", "end": "2025-12-31"}})
    assert design.sha256 == bare.sha256  # every value written in the template is the default
    assert "TODO" in path.read_text()


def test_template_rejects_a_bad_id():
    with pytest.raises(DesignError, match="lowercase slug"):
        design_template("Bad Id", kind="did")


# --- checks against data ---------------------------------------------------------------------
def weekly_frame(units, *, weeks=80, start="2024-01-01", seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pd.date_range(start, periods=weeks, freq="W-MON")
    frame = pd.DataFrame([(u, p) for u in units for p in periods], columns=["unit", "period"])
    frame["y"] = rng.poisson(2.0, len(frame)).astype(float)
    frame["exposure"] = 10_000.0
    return frame


UNITS = ["GM0599", "GM0363", "GM0344", "GM0518", "GM0014"]
CUTOFF = dt.date(2025, 7, 13)  # Sunday after the last week of an 80-week frame from 2024-01-01


def check(data: dict, frame: pd.DataFrame | None = None, **kwargs) -> list[Problem]:
    frame = weekly_frame(UNITS) if frame is None else frame
    return check_design_against_data(parse_design(data), frame, cutoff=kwargs.pop("cutoff", CUTOFF), **kwargs)


def test_a_fitting_design_has_no_problems():
    assert check(base()) == []


def test_unknown_treated_and_control_units():
    problems = check(with_(with_(base(), "treatment.units", ["GM0599", "GM9999"]), "treatment.start", "2025-04-14"))
    assert [str(p) for p in problems] == [
        "error: treatment.units: unit(s) GM9999 are not in the data; check the codes "
        "(the data have 5 units, e.g. GM0014, GM0344, GM0363)"]
    problems = check(with_(base(), "controls", ["GM0344", "GM8888"]))
    assert [(p.level, p.field) for p in problems] == [("error", "controls")] and "GM8888" in problems[0].message


def test_untreated_controls_need_an_untreated_unit():
    frame = weekly_frame(["GM0599", "GM0363"])
    problems = check(base(), frame)
    assert [(p.level, p.field) for p in problems] == [("error", "controls")]
    its = with_(base(), "design", "its")
    assert check(its, frame) == []  # an ITS needs no controls


@pytest.mark.parametrize(("window_start", "n_pre", "level"), [
    ("2025-02-24", 7, "error"),  # weeks 02-24 .. 04-07 before the start week 04-14
    ("2025-02-17", 8, "warning"),  # the minimum: allowed, with a warning
    ("2024-12-02", 19, "warning"),
    ("2024-11-25", 20, None),  # enough
])
def test_pre_period_count(window_start, n_pre, level):
    frame = weekly_frame(UNITS)
    pre = frame.loc[(frame.unit == "GM0599") & (frame.period >= window_start) & (frame.period < "2025-04-14")]
    assert len(pre) == n_pre  # the expected count, computed independently
    problems = check(with_(base(), "window.start", window_start), frame)
    if level is None:
        assert problems == []
    else:
        assert [(p.level, p.field) for p in problems] == [(level, "window.start")]
        assert f"only {n_pre} pre-period" in problems[0].message


def test_pre_period_minimum_follows_defaults(monkeypatch):
    monkeypatch.setattr(defaults, "MIN_PRE_PERIODS", 10)
    problems = check(with_(base(), "window.start", "2025-02-10"))  # 9 pre-periods
    assert [p.level for p in problems] == ["error"] and "at least 10 are needed" in problems[0].message


def test_pre_periods_of_a_design_registered_before_its_start():
    # data end 2025-03-31, start 2025-04-14: the week of 04-07 has no data yet and is not counted,
    # the last week with data is (it is not the start week)
    frame = weekly_frame(UNITS, weeks=66)
    problems = check(with_(base(), "window.start", "2024-11-25"), frame, cutoff=dt.date(2025, 4, 6))
    assert [(p.level, p.field) for p in problems] == [("warning", "window.start")]
    assert problems[0].message.startswith("only 19 pre-periods with data")


def test_monthly_pre_periods_count_whole_months():
    months = pd.date_range("2023-01-01", periods=30, freq="MS")
    frame = pd.DataFrame([(u, p) for u in UNITS for p in months], columns=["unit", "period"])
    frame["y"] = 1.0
    data = with_(with_(base(), "data.frequency", "month"), "window.start", "2024-05-15")
    # months 2024-05 .. 2025-03 before the start month 2025-04: 11 (the window's own month counts)
    problems = check(data, frame, cutoff=dt.date(2025, 6, 30))
    assert [p.level for p in problems] == ["warning"] and problems[0].message.startswith("only 11 pre-periods")


def test_excluded_periods_do_not_count_as_pre_periods():
    data = with_(with_(base(), "window.start", "2024-11-25"), "window.exclude",
                 {"start": "2025-03-03", "end": "2025-03-16"})
    problems = check(data)
    assert [(p.level, p.field) for p in problems] == [("warning", "window.start")]
    assert "only 18 pre-periods" in problems[0].message


def test_dates_outside_the_data():
    late = weekly_frame(UNITS, start="2024-06-03", weeks=50)
    problems = check(base(), late, cutoff=dt.date(2025, 5, 18))
    assert ("warning", "window.start") in [(p.level, p.field) for p in problems]
    assert any("before the first period with data (2024-06-03)" in p.message for p in problems)
    early = weekly_frame(UNITS, weeks=20)
    problems = check(with_(base(), "window.start", "2024-06-03"), early, cutoff=dt.date(2024, 5, 19))
    assert [(p.level, p.field) for p in problems] == [("error", "window.start")]
    assert "lies after the last data (2024-05-19)" in problems[0].message


def test_exposure_must_be_present_and_positive():
    data = with_(base(), "data.exposure", "population")
    assert check(data) == []
    assert [p.field for p in check(data, weekly_frame(UNITS).drop(columns="exposure"))] == ["data.exposure"]
    frame = weekly_frame(UNITS)
    frame.loc[(frame.unit == "GM0363") & (frame.period == pd.Timestamp("2024-01-08")), "exposure"] = np.nan
    problems = check(data, frame)
    assert [p.field for p in problems] == ["data.exposure"] and "GM0363 2024-01-08" in problems[0].message


def test_integer_periods_and_start_column():
    frame = pd.DataFrame([(u, t) for u in ["a", "b", "c"] for t in range(1, 41)], columns=["unit", "period"])
    frame["y"] = 1.0
    frame["start"] = np.where(frame["unit"] == "a", 20.0, np.nan)
    data = {**base(), "data": {"source": "panel.csv"}, "treatment": {"start_column": "first_treat"},
            "window": {"start": 1, "end": 40}}
    problems = check(data, frame, cutoff=40)
    assert [(p.level, p.field) for p in problems] == [("warning", "window.start")]
    assert problems[0].message.startswith("only 19 pre-periods with data between window.start 1 and treatment.start 20;")
    frame["start"] = np.nan
    assert [p.field for p in check(data, frame, cutoff=40)] == ["treatment.start_column"]


def test_diagnosis_hook_warns_when_the_effect_is_undetectable():
    assert check(base(), diagnosis={"minimum_detectable_reduction": 0.05}) == []
    problems = check(base(), diagnosis={"minimum_detectable_reduction": 0.35})
    assert [(p.level, p.field) for p in problems] == [("warning", "decision.min_reduction")]
    assert "35%" in problems[0].message and "10%" in problems[0].message
