"""A ledger that cannot be shortened or rewritten unnoticed: every tamper kind fails verification
with a message naming the entry (edit, delete, reorder, truncate, empty, recompute the whole
chain, the last entry's link), checked against recorded heads, --expect-head and git history."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from test_registry import ledger_lines, rechain, registered, rewrite, source, write_design

from evaluation import registry
from evaluation.registry import integrity, ledger
from evaluation.workspace import init_workspace

LEDGER = "designs/registry.jsonl"


@pytest.fixture
def ws(tmp_path):
    return registered(init_workspace(tmp_path / "ws"))  # 3 registrations and 1 amendment


def problems(ws, **kwargs) -> list[str]:
    """The ledger's problems (removing the last entry, an amendment of fl-01-x, also leaves that
    design file edited without an amendment: a problem of its own, not counted here)."""
    return [p for p in registry.verify(ws, history=False, **kwargs).problems if p.startswith(LEDGER)]


def record_head(ws, design_id="fl-02-x"):
    """A result that recorded the head it ran under, as `analyse` writes it (key `ledger`)."""
    folder = ws.analysis_dir(design_id)
    folder.mkdir(parents=True, exist_ok=True)
    head = registry.read_head(ws.registry)
    (folder / "result.json").write_text(json.dumps({"id": design_id, "ledger": head.to_dict()}))
    return head


# --- what the chain alone cannot see ------------------------------------------------------------
def test_the_last_entry_deleted_is_caught_by_a_recorded_head(ws):
    head = record_head(ws)
    rewrite(ws, ledger_lines(ws)[:-1])
    assert registry.verify(ws, history=False).n_entries == 3  # the chain itself is intact
    assert problems(ws) == [
        f"{LEDGER}: entry 4 (hash {head.sha256[:12]}) is gone: analyses/fl-02-x/result.json was made "
        "when the ledger had 4 entries, it now has 3; entries were removed from its end (or it was "
        "emptied) — restore it from version control"]


def test_an_emptied_or_deleted_ledger_is_caught(ws):
    record_head(ws)
    ws.registry.write_text("")
    assert len(found := problems(ws)) == 1 and "entry 4 (hash" in found[0] and "it now has 0" in found[0]
    ws.registry.unlink()
    assert "entry 4 (hash" in problems(ws)[0]


def test_a_recomputed_chain_is_caught_by_a_recorded_head(ws):
    head = record_head(ws)
    entries = [json.loads(line) for line in ledger_lines(ws)]
    entries[1]["registrant"] = "someone else"
    rewrite(ws, rechain(entries))
    forged = json.loads(ledger_lines(ws)[-1])["entry_sha256"]
    assert problems(ws) == [
        f"{LEDGER}: entry 4 (id fl-01-x) has hash {forged[:12]}, but analyses/fl-02-x/result.json "
        f"recorded {head.sha256[:12]} for it: the ledger was rewritten up to that entry (its chain "
        "recomputed) — restore it from version control"]


def test_the_last_entrys_previous_hash_link_broken(ws):
    lines = ledger_lines(ws)
    last = json.loads(lines[-1])
    last["prev_sha256"] = "e" * 64
    last["entry_sha256"] = ledger.entry_sha256(last)  # its own hash made consistent again
    rewrite(ws, lines[:-1] + [json.dumps(last)])
    found = problems(ws)
    assert len(found) == 1 and found[0].startswith(
        f"{LEDGER}: line 4 (id fl-01-x): prev_sha256 does not match the entry hash of the line before")


def test_a_reordered_and_a_deleted_middle_line_are_named(ws):
    lines = ledger_lines(ws)
    rewrite(ws, [lines[0], lines[2], lines[1], lines[3]])
    assert any("line 2 (id fl-03-x): prev_sha256" in p for p in problems(ws))
    rewrite(ws, [lines[0], lines[2], lines[3]])
    assert any("line 2 (id fl-03-x): prev_sha256" in p and "entry 2 missing" in p for p in problems(ws))


def test_a_rendered_page_records_the_head_too(ws):
    head = registry.read_head(ws.registry)
    page = ws.root / "_site" / "interventions" / "fl-02-x.html"
    page.parent.mkdir(parents=True)
    page.write_text(f'<p>kop<span class="ledger-head" data-ledger-head="{head.sha256}" '
                    f'data-ledger-length="{head.length}"></span></p>')
    assert problems(ws) == []
    rewrite(ws, ledger_lines(ws)[:2])
    assert "_site/interventions/fl-02-x.html was made when the ledger had 4 entries" in problems(ws)[0]
    assert "designs/fl-01-x.yaml: edited without an amendment" in registry.verify(ws, history=False).problems[0]


# --- the head printed in the committee's papers --------------------------------------------------------
def test_expect_head(ws):
    third = json.loads(ledger_lines(ws)[2])["entry_sha256"]
    result = registry.verify(ws, history=False, expect_head=third[:12])
    assert result.ok and result.notes == (f"expected head {third[:12]} is entry 3 (id fl-03-x); 1 entry "
                                          "added since",)
    assert registry.verify(ws, history=False, expect_head="abc").problems == (
        "--expect-head: `abc` is not a ledger head; give the hash printed in the papers (at least 12 "
        "hexadecimal digits)",)
    assert problems(ws, expect_head="0" * 64)[0] == (
        f"{LEDGER}: no entry has the expected head 000000000000: the ledger the papers were made under "
        "was rewritten, shortened or replaced (4 entries now)")
    entries = [json.loads(line) for line in ledger_lines(ws)]
    entries[0]["registrant"] = "forger"
    rewrite(ws, rechain(entries))  # a fully recomputed chain: no head survives
    assert "no entry has the expected head" in problems(ws, expect_head=third)[0]


# --- git history ----------------------------------------------------------------------------------------
def git(ws, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          cwd=ws.root, check=True, capture_output=True, text=True).stdout


def commit(ws, message):
    git(ws, "add", "designs/registry.jsonl")
    git(ws, "commit", "-qm", message)
    return git(ws, "rev-parse", "HEAD").strip()[:12]


@pytest.fixture
def repo(ws):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(ws, "init", "-q")
    commit(ws, "four entries")
    registry.register(write_design(ws, id="fl-05-x"), workspace=ws, by="x", source=source(weeks=66))
    commit(ws, "five entries")
    return ws


def test_a_ledger_that_only_grew_passes_the_git_check(repo):
    result = registry.verify(repo)
    assert result.ok and result.notes[-1] == f"git history: 2 committed version(s) of {LEDGER} checked"


def test_a_history_rewrite_is_named_by_line_and_commits(repo):
    entries = [json.loads(line) for line in ledger_lines(repo)]
    entries[1]["registrant"] = "someone else"
    rewrite(repo, rechain(entries))
    assert registry.verify(repo, history=False).ok  # nothing else can see it
    found = registry.verify(repo).problems
    assert len(found) == 1 and found[0].startswith(f"{LEDGER}: line 2 (id fl-02-x) of commit ")
    assert "differs in the working file: the ledger was shortened or rewritten in its history" in found[0]
    forged = commit(repo, "forged")
    found = registry.verify(repo).problems
    assert len(found) == 1 and f"differs in commit {forged}" in found[0]


def test_a_truncation_in_the_working_file_is_named(repo):
    rewrite(repo, ledger_lines(repo)[:3])
    found = [p for p in registry.verify(repo).problems if p.startswith(LEDGER)]
    assert len(found) == 1 and "line 4 (id fl-01-x) of commit" in found[0] and "is missing in the working file" in found[0]


def test_a_restart_naming_the_replaced_head_is_reported_not_refused(repo):
    before = registry.read_head(repo.registry)
    registry.restart_ledger(repo, by="maintainer", reason="schema change", now="2026-01-05T10:00:00Z")
    restarted = commit(repo, "restart")
    result = registry.verify(repo)
    assert result.ok, result.problems
    assert (f"{LEDGER} was restarted in commit {restarted}" in result.notes[0]
            and f"the replaced ledger had head {before}" in result.notes[0])
    # a "restart" naming another head is a rewrite like any other
    entry = json.loads(ledger_lines(repo)[0])
    entry["previous_length"] = 2
    rewrite(repo, rechain([entry]))
    assert "of commit" in registry.verify(repo).problems[0]


def test_a_restart_may_only_open_the_ledger(ws):
    registry.restart_ledger(ws, by="m", reason="r")
    registry.register(write_design(ws, id="fl-05-x"), workspace=ws, by="x", source=source(weeks=66))
    lines = ledger_lines(ws)
    restart = json.loads(lines[0])
    entries = [json.loads(lines[1]), restart]
    rewrite(ws, rechain(entries))
    assert any("line 2 (restart): a restart may only open a ledger" in p for p in problems(ws))


def test_without_git_the_history_check_is_skipped_with_a_note(ws, monkeypatch):
    monkeypatch.setattr(integrity.shutil, "which", lambda name: None)
    result = registry.verify(ws)
    assert result.ok and result.notes == ("git is not installed: the ledger's committed history was not checked",)
    monkeypatch.undo()
    if shutil.which("git"):
        assert registry.verify(ws).notes == (
            "the workspace is not a git repository: the ledger's committed history was not checked",)
