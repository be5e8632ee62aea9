"""The registry ledger: entries, amendments, status, every kind of tamper, concurrent writers."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import types

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import registry
from evaluation.design.model import load_design, parse_design
from evaluation.errors import RegistryError
from evaluation.registry import ledger
from evaluation.workspace import init_workspace

DESIGN = {
    "id": "fl-01-school-visits", "title": "School visits", "owner": "Jongerenwerk op Zuid",
    "hypothesis": "Visits reduce attacks by at least 10%.", "design": "did",
    "treatment": {"units": ["GM0599", "GM0363"], "start": "2025-04-14"},
    "window": {"start": "2024-01-01", "end": "2025-07-22"},
}
UNITS = ["GM0599", "GM0363", "GM0344", "GM0518"]


def source(*, weeks=80, seed=0, change=None):
    """A SourcePanel-like object: weekly counts from 2024-01-01; cut-off the Sunday after the last week."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2024-01-01", periods=weeks, freq="W-MON")
    frame = pd.DataFrame([(u, p) for u in UNITS for p in periods], columns=["unit", "period"])
    frame["y"] = rng.poisson(2.0, len(frame)).astype(float)
    if change is not None:
        unit, period, value = change
        frame.loc[(frame.unit == unit) & (frame.period == pd.Timestamp(period)), "y"] = value
    cutoff = (periods[-1] + pd.Timedelta(days=6)).date()
    return types.SimpleNamespace(frame=frame, cutoff=cutoff, integer_periods=False, source="synthetic")


PROSPECTIVE = dict(weeks=66)  # last week 2025-03-31, cut-off 2025-04-06: before the start 2025-04-14
RETROSPECTIVE = dict(weeks=80)  # cut-off 2025-07-13: post-period data exist


@pytest.fixture
def ws(tmp_path):
    return init_workspace(tmp_path / "ws")


def write_design(ws, data=None, **changes):
    data = {**(data or DESIGN), **changes}
    path = ws.design_path(data["id"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_design(path)


def ledger_lines(ws):
    return ws.registry.read_text().splitlines()


def registered(ws, n=3):
    """n designs registered, then the first one amended: n + 1 entries."""
    for i in range(n):
        design = write_design(ws, id=f"fl-0{i + 1}-x")
        registry.register(design, workspace=ws, by=f"analyst {i}", source=source(**PROSPECTIVE),
                          now=f"2025-01-0{i + 1}T09:00:00Z")
    changed = write_design(ws, id="fl-01-x", title="Changed title")
    registry.amend(changed, workspace=ws, by="analyst 0", reason="clearer title", source=source(**PROSPECTIVE))
    return ws


# --- entries -----------------------------------------------------------------------------------
def test_registration_entry_holds_everything(ws):
    design = write_design(ws)
    entry = registry.register(design, workspace=ws, by="E. de Vries", source=source(**PROSPECTIVE),
                              now="2025-03-01T10:00:00Z")
    assert entry["kind"] == "registration" and entry["id"] == design.id and entry["seq"] == 1
    assert entry["design_sha256"] == design.sha256 and entry["design"] == design.canonical
    assert entry["registrant"] == "E. de Vries" and entry["timestamp"] == "2025-03-01T10:00:00Z"
    assert entry["data_cutoff"] == "2025-04-06" and entry["retrospective"] is False
    assert entry["prev_sha256"] == "0" * 64 and entry["diagnosis_sha256"] is None
    assert len(entry["pre_period_sha256"]) == 64
    assert entry["entry_sha256"] == ledger.entry_sha256(entry)
    assert json.loads(ledger_lines(ws)[0]) == entry
    assert registry.verify(ws).ok


def test_default_timestamp_is_utc_now(ws):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    entry = registry.register(write_design(ws), workspace=ws, by="x", source=source(**PROSPECTIVE))
    stamp = dt.datetime.strptime(entry["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert before <= stamp <= dt.datetime.now(dt.UTC)


def test_chain_links_each_entry_to_the_one_before(ws):
    registered(ws)
    entries = [json.loads(line) for line in ledger_lines(ws)]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["prev_sha256"] == before["entry_sha256"]
    assert counts(registry.verify(ws)) == ((), 4, 3)


def counts(result):
    """What a verification found: (problems, entries, designs)."""
    return result.problems, result.n_entries, result.n_designs


def test_registering_twice_points_to_amend(ws):
    design = write_design(ws)
    registry.register(design, workspace=ws, by="x", source=source(**PROSPECTIVE))
    with pytest.raises(RegistryError, match=r"fl-01-school-visits: already registered .*evaluation amend"):
        registry.register(design, workspace=ws, by="y", source=source(**PROSPECTIVE))
    assert len(ledger_lines(ws)) == 1


def test_amendment_records_diff_and_reason(ws):
    design = write_design(ws)
    registry.register(design, workspace=ws, by="x", source=source(**PROSPECTIVE))
    with pytest.raises(RegistryError, match="nothing changed"):
        registry.amend(design, workspace=ws, by="x", reason="none", source=source(**PROSPECTIVE))
    changed = write_design(ws, window={"start": "2023-06-05", "end": "2025-07-22"})
    entry = registry.amend(changed, workspace=ws, by="y", reason="longer pre-period", source=source(**PROSPECTIVE))
    assert entry["kind"] == "amendment" and entry["reason"] == "longer pre-period"
    assert entry["previous_design_sha256"] == design.sha256 and entry["design_sha256"] == changed.sha256
    assert entry["diff"] == [{"field": "window.start", "old": "2024-01-01", "new": "2023-06-05"}]
    status = registry.registration_status(changed, ws)
    assert status.status == "amended" and status.matches and status.registered_by == "x"
    assert status.amendments == ({"date": entry["timestamp"], "by": "y", "reason": "longer pre-period",
                                  "diff": entry["diff"], "diagnosis_sha256": None,
                                  "previous_diagnosis_sha256": None},)
    assert registry.registration_status(design, ws).status == "modified-since-registration"  # the old version no longer matches


def test_amending_an_unregistered_design_points_to_register(ws):
    with pytest.raises(RegistryError, match="not registered yet.*evaluation register"):
        registry.amend(write_design(ws), workspace=ws, by="x", reason="r", source=source())


def test_empty_names_are_refused(ws):
    with pytest.raises(RegistryError, match="--by: must not be empty"):
        registry.register(write_design(ws), workspace=ws, by=" ", source=source())
    assert ledger_lines(ws) == []


# --- retrospective and pre-period hash ------------------------------------------------------------
def test_retrospective_flag(ws):
    entry = registry.register(write_design(ws), workspace=ws, by="x", source=source(**RETROSPECTIVE))
    assert entry["retrospective"] is True and entry["data_cutoff"] == "2025-07-13"
    status = registry.registration_status(load_design(ws.design_path(DESIGN["id"])), ws)
    assert status.status == "retrospective" and status.retrospective and status.matches


def test_retrospective_from_the_first_staggered_start():
    staggered = parse_design({**DESIGN, "treatment": {"units": ["GM0599", "GM0363"],
                                                      "start": {"GM0599": "2025-04-14", "GM0363": "2025-03-31"}}})
    # cut-off 2025-04-06 is after the first start (2025-03-31) but before the second
    assert registry.data_facts(staggered, source(**PROSPECTIVE))["retrospective"] is True
    assert registry.data_facts(parse_design(DESIGN), source(**PROSPECTIVE))["retrospective"] is False


def test_retrospective_with_period_numbers_and_start_column():
    frame = pd.DataFrame([(u, t) for u in "abc" for t in range(1, 31)], columns=["unit", "period"])
    frame["y"] = 1.0
    frame["start"] = np.where(frame["unit"] == "a", 25.0, np.nan)
    design = parse_design({**DESIGN, "data": {"source": "panel.csv"}, "treatment": {"start_column": "g"},
                           "window": {"start": 1, "end": 40}})
    make = lambda cutoff: types.SimpleNamespace(frame=frame, cutoff=cutoff, integer_periods=True, source="p")  # noqa: E731
    assert registry.data_facts(design, make(30)) == {**registry.data_facts(design, make(30)), "retrospective": True,
                                                     "data_cutoff": 30}
    assert registry.data_facts(design, make(24))["retrospective"] is False


def test_pre_period_hash_covers_pre_period_rows_only():
    design = parse_design(DESIGN)
    reference = registry.data_facts(design, source())["pre_period_sha256"]
    assert registry.data_facts(design, source())["pre_period_sha256"] == reference  # deterministic
    pre_edit = registry.data_facts(design, source(change=("GM0344", "2024-03-04", 99.0)))["pre_period_sha256"]
    post_edit = registry.data_facts(design, source(change=("GM0344", "2025-05-05", 99.0)))["pre_period_sha256"]
    assert pre_edit != reference and post_edit == reference


# --- status and the analysis gate --------------------------------------------------------------------
def test_registration_status_of_unregistered_and_modified(ws):
    design = write_design(ws)
    status = registry.registration_status(design, ws)
    assert (status.status, status.matches, status.latest) == ("unregistered", False, None)
    with pytest.raises(RegistryError, match="fl-01-school-visits: the design is unregistered; register it"):
        registry.require_registered(design, workspace=ws)
    assert registry.require_registered(design, workspace=ws, exploratory=True).status == "unregistered"
    registry.register(design, workspace=ws, by="x", source=source(**PROSPECTIVE))
    assert registry.require_registered(design, workspace=ws).status == "registered"
    edited = write_design(ws, hypothesis="Something else")
    with pytest.raises(RegistryError, match=r"the design is modified-since-registration; record the change with `evaluation amend"):
        registry.require_registered(edited, workspace=ws)
    as_dict = registry.registration_status(edited, ws).to_dict()
    assert as_dict["status"] == "modified-since-registration" and as_dict["registered_sha256"] == design.sha256
    json.dumps(as_dict)  # serialisable for the analysis result


def test_workspace_status_rows(ws):
    registered(ws)
    write_design(ws, id="fl-02-x", title="edited")  # modified
    write_design(ws, id="fl-09-new")  # unregistered
    (ws.designs / "fl-08-broken.yaml").write_text("id: [")
    ws.design_path("fl-03-x").unlink()  # missing
    rows = {r["id"]: r for r in registry.workspace_status(ws)}
    assert {k: r["status"] for k, r in rows.items()} == {
        "fl-01-x": "amended", "fl-02-x": "modified-since-registration", "fl-03-x": "missing", "fl-08-broken": "invalid",
        "fl-09-new": "draft"}
    assert rows["fl-01-x"]["amendments"] == 1 and rows["fl-02-x"]["registered_by"] == "analyst 1"


# --- tampering -------------------------------------------------------------------------------------------
def rewrite(ws, lines):
    ws.registry.write_text("".join(line + "\n" for line in lines))


def rechain(entries):
    """What a forger does after editing an entry: recompute every link and hash (JSON lines)."""
    previous = ledger.GENESIS_SHA256
    for entry in entries:
        entry["prev_sha256"] = previous
        entry["entry_sha256"] = ledger.entry_sha256(entry)
        previous = entry["entry_sha256"]
    return [json.dumps(e) for e in entries]


def only_problem(ws) -> str:
    result = registry.verify(ws)
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def test_edited_line_is_detected(ws):
    lines = ledger_lines(registered(ws))
    entry = json.loads(lines[1])
    entry["registrant"] = "someone else"
    lines[1] = json.dumps(entry)
    rewrite(ws, lines)
    assert "line 2 (id fl-02-x): entry hash mismatch: the line was edited" in only_problem(ws)


def test_edited_design_inside_a_rehashed_line_is_detected(ws):
    lines = ledger_lines(registered(ws))
    entry = json.loads(lines[1])
    entry["design"]["title"] = "forged"
    entry["entry_sha256"] = ledger.entry_sha256(entry)  # a forger recomputes the line's own hash...
    lines[1] = json.dumps(entry)
    rewrite(ws, lines)
    problems = registry.verify(ws).problems
    assert any("line 2 (id fl-02-x): design_sha256 does not match the design" in p for p in problems)
    assert any("line 3 (id fl-03-x): prev_sha256 does not match" in p for p in problems)  # ...but not the chain


def test_removed_line_is_detected(ws):
    lines = ledger_lines(registered(ws))
    rewrite(ws, lines[:1] + lines[2:])
    assert only_problem(ws).endswith("line 2 (id fl-03-x): prev_sha256 does not match the entry hash of the "
                                     "line before: entry 2 missing: a line was removed before it")


def test_reordered_lines_are_detected(ws):
    lines = ledger_lines(registered(ws))
    rewrite(ws, [lines[0], lines[2], lines[1], lines[3]])
    problems = registry.verify(ws).problems
    assert "line 2 (id fl-03-x): prev_sha256 does not match the entry hash of the line before: entry 2 missing" \
        in problems[0]
    assert "line 3 (id fl-02-x): prev_sha256 does not match the entry hash of the line before: seq 2 follows " \
        "seq 3: lines were reordered" in problems[1]


def test_inserted_line_is_detected(ws):
    lines = ledger_lines(registered(ws))
    forged = json.loads(lines[1])
    forged.update(id="fl-07-forged", design_sha256="f" * 64, design=None)
    forged["entry_sha256"] = ledger.entry_sha256(forged)
    rewrite(ws, lines[:2] + [json.dumps(forged)] + lines[2:])
    problems = registry.verify(ws).problems
    assert any("line 3 (id fl-07-forged): prev_sha256 does not match" in p and "seq 2 follows seq 2" in p
               for p in problems)


def test_design_edited_without_amendment_is_detected(ws):
    registered(ws)
    write_design(ws, id="fl-02-x", owner="Another owner")
    problem = only_problem(ws)
    assert "fl-02-x.yaml: edited without an amendment" in problem and "evaluation amend" in problem
    assert "(line 2, 2025-01-02T09:00:00Z, analyst 1)" in problem


def test_deleted_design_file_is_detected(ws):
    registered(ws)
    ws.design_path("fl-03-x").unlink()
    problem = only_problem(ws)
    assert "fl-03-x.yaml: registered (line 3 of registry.jsonl) but the design file was deleted" in problem


def test_truncated_last_line_is_detected_and_repaired(ws):
    registered(ws)
    good = ws.registry.read_bytes()
    ws.registry.write_bytes(good + b'{"seq": 5, "kind": "registration", "id": "fl-0')  # crash mid-write
    problem = only_problem(ws)
    assert "line 5 is incomplete" in problem and "evaluation registry repair" in problem
    with pytest.raises(RegistryError, match="the ledger is damaged, nothing was written: .*line 5 is incomplete"):
        registry.register(write_design(ws, id="fl-05-x"), workspace=ws, by="x", source=source())
    assert "removed the incomplete line 5" in registry.repair(ws, by="ops")
    assert ws.registry.read_bytes().startswith(good)  # the good lines, then the logged repair
    repair_entry = json.loads(ledger_lines(ws)[-1])
    assert repair_entry["kind"] == "repair" and repair_entry["seq"] == 5 and repair_entry["registrant"] == "ops"
    assert repair_entry["removed_line"] == 5 and repair_entry["removed_characters"] == 46
    assert registry.verify(ws).ok and registry.repair(ws, by="ops") is None


def test_repair_never_touches_damage_inside_the_ledger(ws):
    lines = ledger_lines(registered(ws))
    lines[1] = lines[1][:40]
    rewrite(ws, lines)
    assert "line 2 is not a valid JSON entry" in registry.verify(ws).problems[0]
    before = ws.registry.read_bytes()
    with pytest.raises(RegistryError, match="restore the ledger from version control"):
        registry.repair(ws, by="ops")
    assert ws.registry.read_bytes() == before


def test_windows_line_endings_do_not_break_the_chain(ws):
    registered(ws)
    ws.registry.write_bytes(ws.registry.read_bytes().replace(b"\n", b"\r\n"))  # e.g. git autocrlf
    assert counts(registry.verify(ws)) == ((), 4, 3)


def test_last_line_without_newline_is_not_swallowed(ws):
    registered(ws)
    ws.registry.write_bytes(ws.registry.read_bytes().rstrip(b"\n"))
    assert registry.verify(ws).ok
    registry.register(write_design(ws, id="fl-05-x"), workspace=ws, by="x", source=source())
    assert counts(registry.verify(ws)) == ((), 5, 4)


# --- concurrency ---------------------------------------------------------------------------------------
def _register_many(root, ids, barrier):
    ws = init_workspace(root)
    barrier.wait()  # all processes start appending at the same moment
    for design_id in ids:
        registry.register(load_design(ws.design_path(design_id)), workspace=ws, by=design_id, source=source())


def test_concurrent_registrations_from_processes(ws):
    n_processes, per_process = 8, 5
    ids = [[f"fl-{p}-{i}" for i in range(per_process)] for p in range(n_processes)]
    for design_id in sum(ids, []):
        write_design(ws, id=design_id)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(n_processes)
    workers = [context.Process(target=_register_many, args=(ws.root, chunk, barrier)) for chunk in ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * n_processes
    entries = [json.loads(line) for line in ledger_lines(ws)]
    assert sorted(e["id"] for e in entries) == sorted(sum(ids, []))
    assert [e["seq"] for e in entries] == list(range(1, n_processes * per_process + 1))
    assert counts(registry.verify(ws)) == ((), 40, 40)

