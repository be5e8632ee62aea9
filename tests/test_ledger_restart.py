"""The ledger restart (demo re-registration) with literal expectations: the entry it writes,
the note `verify` gives for it, and the restarts it refuses (issue 22: mutation testing found the
restart path read by no test)."""

from __future__ import annotations

import json
import re

import pytest
from test_registry import ledger_lines, rechain, registered, rewrite
from test_registry_integrity import LEDGER, commit, repo, ws  # noqa: F401 (fixtures)

from evaluation import registry
from evaluation.errors import RegistryError
from evaluation.registry.ledger import Head
from evaluation.workspace import init_workspace

WHEN = "2026-01-05T10:00:00Z"


def test_head_is_shown_by_its_first_twelve_digits_and_length():
    assert str(Head("ab" * 32, 4)) == "abababababab (4 entries)"
    assert Head("ab" * 32, 4).to_dict() == {"head_sha256": "ab" * 32, "length": 4}


def test_restart_writes_one_entry_naming_the_replaced_head(ws):  # noqa: F811
    before = registry.read_head(ws.registry)
    entry = registry.restart_ledger(ws, by="maintainer", reason="schema change", now=WHEN)
    assert {k: v for k, v in entry.items() if k != "entry_sha256"} == {
        "seq": 1, "kind": "restart", "timestamp": WHEN, "registrant": "maintainer",
        "reason": "schema change", "previous_head_sha256": before.sha256, "previous_length": 4,
        "prev_sha256": "0" * 64}
    assert [json.loads(line) for line in ledger_lines(ws)] == [entry]
    assert registry.read_head(ws.registry) == Head(entry["entry_sha256"], 1)


def test_restart_of_an_empty_ledger_names_the_genesis_head(tmp_path):
    fresh = init_workspace(tmp_path / "ws")
    entry = registry.restart_ledger(fresh, by="m", reason="r", now=WHEN)
    assert (entry["previous_head_sha256"], entry["previous_length"]) == ("0" * 64, 0)


def test_a_damaged_ledger_is_not_restarted(ws):  # noqa: F811
    lines = ledger_lines(ws)
    rewrite(ws, [lines[0], lines[2], lines[3]])
    with pytest.raises(RegistryError, match=r"^the ledger is damaged, it was not restarted: "
                                            rf"\S*{LEDGER}: line 2 \(id fl-03-x\): prev_sha256"):
        registry.restart_ledger(ws, by="m", reason="r")
    assert len(ledger_lines(ws)) == 3  # untouched


def test_the_restart_note_in_full(repo):  # noqa: F811
    before = registry.read_head(repo.registry)
    assert before.length == 5
    registry.restart_ledger(repo, by="maintainer", reason="schema change", now=WHEN)
    restarted = commit(repo, "restart")
    result = registry.verify(repo)
    assert result.ok, result.problems
    note, history = result.notes
    assert re.fullmatch(
        rf"{LEDGER} was restarted in commit {restarted} \(\d{{4}}-\d\d-\d\d\): begun afresh on "
        rf"{WHEN} by maintainer \(schema change\); the replaced ledger had head "
        rf"{before.sha256[:12]} \(5 entries\)", note), note
    assert history == f"git history: 3 committed version(s) of {LEDGER} checked"


@pytest.mark.parametrize("field", ["previous_head_sha256", "previous_length", "kind"])
def test_a_restart_that_does_not_name_the_replaced_head_is_a_rewrite(repo, field):  # noqa: F811
    registry.restart_ledger(repo, by="maintainer", reason="schema change", now=WHEN)
    entry = json.loads(ledger_lines(repo)[0])
    entry[field] = {"previous_head_sha256": "0" * 64, "previous_length": 4, "kind": "repair"}[field]
    rewrite(repo, rechain([entry]))
    commit(repo, "forged restart")
    found = [p for p in registry.verify(repo).problems if "of commit" in p]
    assert found and "line 1 (id fl-01-x) of commit" in found[0] and "differs in" in found[0]


def test_a_restart_after_a_damaged_history_is_a_rewrite(repo):  # noqa: F811
    """The replaced ledger must itself be intact for a restart to count as one."""
    lines = ledger_lines(repo)
    rewrite(repo, [lines[0], lines[2], lines[3], lines[4]])  # line 2 removed, then committed
    commit(repo, "damaged")
    rewrite(repo, lines)  # back to the intact text so that restart_ledger accepts it
    registry.restart_ledger(repo, by="m", reason="r", now=WHEN)
    commit(repo, "restart")
    assert any("of commit" in p for p in registry.verify(repo).problems)


def test_registered_helper_gives_four_entries(tmp_path):
    assert registry.read_head(registered(init_workspace(tmp_path / "w")).registry).length == 4


def test_results_made_before_a_restart_are_stale_not_a_rewrite(ws):  # noqa: F811
    """After `make register-demo`, a workspace's old results record the replaced head: `verify`
    says to analyse them again; a head the restart does not name is still a rewrite."""
    from evaluation.registry.integrity import RESULT_KEY

    before = registry.read_head(ws.registry)
    old = ws.analyses / "fl-01-a" / "result.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({RESULT_KEY: before.to_dict()}), encoding="utf-8")
    registry.restart_ledger(ws, by="maintainer", reason="schema change", now=WHEN)
    result = registry.verify(ws)
    assert result.ok, result.problems
    assert any(note.startswith("analyses/fl-01-a/result.json was made under the ledger that the "
                               "restart entry of ") and note.endswith(
        f"replaced (head {before.sha256[:12]}): analyse and render it again") for note in result.notes), result.notes
    forged = ws.analyses / "fl-02-b" / "result.json"
    forged.parent.mkdir(parents=True)
    forged.write_text(json.dumps({RESULT_KEY: {"head_sha256": "cd" * 32, "length": before.length}}),
                      encoding="utf-8")
    result = registry.verify(ws)
    assert not result.ok
    assert any("fl-02-b/result.json" in p for p in result.problems), result.problems
