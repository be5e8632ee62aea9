"""The ledger and its integrity checks read line by line (issue 22: the survivors of the mutation
run of 2026-12-08). Every expectation is a literal: the ledgers here are written by hand (each
entry's hash computed below with hashlib over the canonical JSON, not by the ledger module), and
every message is spelled out in full."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from evaluation.design.model import canonical_json
from evaluation.errors import RegistryError
from evaluation.registry import integrity, ledger
from evaluation.registry.integrity import RecordedHead
from evaluation.registry.ledger import Head, parse_lines
from evaluation.workspace import init_workspace

GENESIS = "0" * 64
L = "L"  # the ledger's name in messages


def sealed(body: dict) -> dict:
    """The entry with its own hash: SHA-256 of the key-sorted, whitespace-free JSON of the rest."""
    return {**body, "entry_sha256": hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()}


def chain(*bodies: dict) -> list[dict]:
    """Entries 1, 2, ... each linked to the one before."""
    entries, previous = [], GENESIS
    for seq, body in enumerate(bodies, start=1):
        entry = sealed({"seq": seq, **body, "prev_sha256": previous})
        entries.append(entry)
        previous = entry["entry_sha256"]
    return entries


def text(*items) -> str:
    """Ledger text: entries as JSON lines, strings as they are, each ending with a newline."""
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


A, B, C = {"kind": "registration", "id": "a"}, {"kind": "registration", "id": "b"}, {"kind": "amendment", "id": "a"}


def problems(raw: str) -> list[str]:
    return ledger.chain_problems(parse_lines(raw), L)


# --- reading -------------------------------------------------------------------------------------
def test_bytes_that_are_not_utf8_are_read_as_replacement_characters(tmp_path):
    path = tmp_path / "registry.jsonl"
    path.write_bytes(b'\xff\xfe{"a"\n')
    (line,) = ledger.read_lines(path)
    assert (line.number, line.text, line.entry, line.complete) == (1, '\ufffd\ufffd{"a"', None, True)


def test_only_json_objects_are_entries():
    lines = parse_lines('[1, 2]\n3\n"x"\n{"a": 1}')
    assert [(x.number, x.text, x.entry, x.complete) for x in lines] == [
        (1, "[1, 2]", None, True), (2, "3", None, True), (3, '"x"', None, True), (4, '{"a": 1}', {"a": 1}, False)]


# --- chain problems, each message in full --------------------------------------------------------
def test_a_last_complete_line_that_is_not_json_was_edited_not_interrupted():
    (a,) = chain(A)
    assert problems(text(a, "garbage")) == [f"{L}: line 2 is not a valid JSON entry: it was edited by hand"]


def test_an_incomplete_last_line_message():
    (a,) = chain(A)
    assert problems(text(a) + '{"seq": 2') == [
        f"{L}: line 2 is incomplete (not valid JSON, no line end): a write was interrupted, e.g. by a "
        "crash; that entry was never recorded. Repair with `evaluation registry repair` (removes only that "
        "last line), then run the command again"]


def test_an_empty_line_between_two_entries():
    a, b = chain(A, B)
    assert problems(text(a, "", b)) == [f"{L}: line 2 is empty: a line was removed or inserted by hand"]


def test_lines_after_an_unreadable_line_are_still_checked():
    (a,) = chain(A)
    edited = {**a, "id": "z"}  # its hash no longer matches
    assert problems(text("garbage", edited)) == [
        f"{L}: line 1 is not a valid JSON entry: it was edited by hand",
        f"{L}: line 2 (id z): entry hash mismatch: the line was edited after it was written"]


def test_a_wrong_link_at_the_right_seq_names_the_line_before():
    a, _ = chain(A, B)
    b = sealed({"seq": 2, **B, "prev_sha256": "f" * 64})
    assert problems(text(a, b)) == [
        f"{L}: line 2 (id b): prev_sha256 does not match the entry hash of the line before: the line "
        "before it was replaced, or a line was inserted before it"]


def test_a_wrong_link_with_a_seq_that_is_not_a_number():
    a, _ = chain(A, B)
    b = sealed({"seq": "2", **B, "prev_sha256": "f" * 64})
    assert problems(text(a, b)) == [
        f"{L}: line 2 (id b): prev_sha256 does not match the entry hash of the line before: the line "
        "before it was replaced, or a line was inserted before it"]


def test_two_entries_missing_are_named_as_a_range():
    a, _, _, d = chain(A, B, C, {"kind": "registration", "id": "d"})
    assert problems(text(a, d)) == [
        f"{L}: line 2 (id d): prev_sha256 does not match the entry hash of the line before: entries 2..3 "
        "missing: a line was removed before it"]


def test_an_entry_without_its_hash_field_links_the_next_by_the_empty_text():
    """The next line is compared with '' (the default of a missing entry_sha256)."""
    a = {"seq": 1, **A, "prev_sha256": GENESIS}
    b = sealed({"seq": 2, **B, "prev_sha256": ""})
    assert problems(text(a, b)) == [
        f"{L}: line 1 (id a): entry hash mismatch: the line was edited after it was written"]


@pytest.mark.parametrize(("body", "where"), [
    ({"kind": "restart"}, "line 1 (restart)"),  # a ledger entry without id is named by its kind
    ({"kind": "repair"}, "line 1 (repair)"),
    ({"kind": "restart", "id": "r"}, "line 1 (id r)"),  # an id always wins
    ({"kind": "registration"}, "line 1 (id ?)"),  # a design entry without id
    ({}, "line 1 (id ?)"),
])
def test_how_an_entry_is_named(body, where):
    entry = {**body, "seq": 1, "prev_sha256": GENESIS, "entry_sha256": "e" * 64}  # a wrong hash
    assert problems(text(entry)) == [f"{L}: {where}: entry hash mismatch: the line was edited after it was written"]


def test_an_empty_object_is_named_by_a_question_mark():
    assert problems("{}\n") == [
        f"{L}: line 1 (id ?): entry hash mismatch: the line was edited after it was written",
        f"{L}: line 1 (id ?): prev_sha256 does not match the entry hash of the line before: the line before "
        "it was replaced, or a line was inserted before it"]


def test_read_entries_names_every_unreadable_line(tmp_path):
    path = tmp_path / "registry.jsonl"
    (a,) = chain(A)
    path.write_text(text("x", a, "y"))
    with pytest.raises(RegistryError) as caught:
        ledger.read_entries(path)
    assert str(caught.value) == (
        f"{path}: line(s) 1, 3 are not valid entries; run `evaluation registry verify` for the details "
        "(and `evaluation registry repair` when only the last line is incomplete)")


def test_readers_share_the_lock(tmp_path):
    """A reader takes the shared lock: it reads while another reader holds it (an exclusive lock
    would wait for it)."""
    path = tmp_path / "registry.jsonl"
    path.write_text(text(*chain(A)))
    fd = os.open(tmp_path / "registry.jsonl.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)
    found = []
    reader = threading.Thread(target=lambda: found.append(len(ledger.read_entries(path))), daemon=True)
    try:
        reader.start()
        reader.join(5)  # the shared read takes milliseconds; 5 s only bounds a reader that waits
        done = not reader.is_alive()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        reader.join(5)
    assert done and found == [1]


# --- writing -------------------------------------------------------------------------------------
def test_entries_are_written_as_utf8_text_not_escapes(tmp_path):
    path = tmp_path / "registry.jsonl"
    ledger.append_entry(path, lambda entries: {"kind": "registration", "id": "a", "registrant": "Émile Ørsted"})
    assert '"registrant": "Émile Ørsted"' in path.read_text(encoding="utf-8")
    ledger.restart(path, record=lambda head: {"kind": "restart", "registrant": "Zoë",
                                               "previous_head_sha256": head.sha256, "previous_length": head.length})
    assert '"registrant": "Zoë"' in path.read_text(encoding="utf-8")


def test_a_damaged_ledger_gets_nothing_appended_and_is_named(tmp_path):
    path = tmp_path / "registry.jsonl"
    path.write_text("{}\n")
    with pytest.raises(RegistryError) as caught:
        ledger.append_entry(path, lambda entries: dict(A))
    assert str(caught.value) == (f"the ledger is damaged, nothing was written: {path}: line 1 (id ?): entry "
                                 "hash mismatch: the line was edited after it was written")
    assert path.read_text() == "{}\n"


def test_a_new_ledger_and_its_lock_are_readable_by_all_writable_by_the_owner(tmp_path):
    path = tmp_path / "designs" / "registry.jsonl"
    old = os.umask(0)
    try:
        ledger.append_entry(path, lambda entries: dict(A))
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert oct((tmp_path / "designs" / "registry.jsonl.lock").stat().st_mode & 0o777) == "0o644"


class ShortWrites:
    """The os module, but whose `write` takes only 7 bytes the first time (as a pipe or a full
    disk may), and refuses to be called more than 4 times (a writer that loops)."""

    def __init__(self):
        self.calls = 0

    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        self.calls += 1
        assert self.calls <= 4, "os.write called again and again"
        return os.write(fd, bytes(data[:7]) if self.calls == 1 else bytes(data))


def test_a_short_write_is_completed(tmp_path, monkeypatch):
    path = tmp_path / "registry.jsonl"
    fake = ShortWrites()
    monkeypatch.setattr(ledger, "os", fake)
    entry = ledger.append_entry(path, lambda entries: dict(A))
    monkeypatch.undo()
    assert fake.calls == 2
    assert path.read_text() == json.dumps(entry, ensure_ascii=False) + "\n"
    assert entry == chain(A)[0]


# --- repair --------------------------------------------------------------------------------------
def record(torn):
    return {"kind": "repair", "removed_line": torn.number}


def test_repair_refuses_damage_that_is_not_a_torn_last_line(tmp_path):
    path = tmp_path / "registry.jsonl"
    path.write_text("one\ntwo\n")
    with pytest.raises(RegistryError) as caught:
        ledger.repair_last_line(path, record=record)
    assert str(caught.value) == (
        f"{path}: line(s) 1, 2 are damaged but not an interrupted last write; repair only removes an "
        "incomplete last line — restore the ledger from version control")


def test_repair_refuses_a_torn_line_after_damaged_ones(tmp_path):
    path = tmp_path / "registry.jsonl"
    (a,) = chain(A)
    path.write_text(text(a, "{}") + '{"seq": 3')
    with pytest.raises(RegistryError) as caught:
        ledger.repair_last_line(path, record=record)
    assert str(caught.value) == (f"{path}: the lines before the incomplete line 3 are damaged too; restore the "
                                 "ledger from version control")


def test_a_valid_last_line_without_its_newline_is_not_repaired(tmp_path):
    path = tmp_path / "registry.jsonl"
    a, b = chain(A, B)
    raw = text(a) + json.dumps(b)
    path.write_text(raw)
    assert ledger.repair_last_line(path, record=record) is None
    assert path.read_text() == raw


def test_nothing_to_repair_in_a_missing_ledger(tmp_path):
    assert ledger.repair_last_line(tmp_path / "registry.jsonl", record=record) is None


def test_repair_removes_the_torn_line_and_logs_it(tmp_path):
    path = tmp_path / "registry.jsonl"
    (a,) = chain(A)
    path.write_text(text(a) + '{"seq": 2, "ki')
    note = ledger.repair_last_line(path, record=record)
    assert note == "removed the incomplete line 2 (14 characters) and logged the repair as entry 2"
    assert path.read_text() == text(*chain(A, {"kind": "repair", "removed_line": 2}))


# --- integrity: the git history, line by line ----------------------------------------------------
def grew(old: str, new: str):
    return integrity._grew(parse_lines(old), parse_lines(new), old_name="commit A", new_name="commit B", ledger=L)


def differs(number, ident, what="differs"):
    return (f"{L}: line {number} (id {ident}) of commit A {what} in commit B: the ledger was shortened or "
            "rewritten in its history — restore it from commit A"), None


def test_windows_line_ends_are_not_a_rewrite():
    assert grew("abc\ndef\n", "abc\r\ndef\r\nghi\r\n") == (None, None)
    assert grew("abc\r\ndef\r\n", "abc\ndef\n") == (None, None)


@pytest.mark.parametrize(("old", "new"), [("abc\n", "abc \n"), ("abc \n", "abc\n"), ("abc\n", "abcX\n"),
                                          ("abcX\n", "abc\n"), ("abc\n", "\rabc\n")])
def test_any_other_change_at_the_end_of_a_line_is_a_rewrite(old, new):
    assert grew(old, new) == differs(1, "?")


def test_a_rewritten_line_is_named_by_id_or_kind():
    (a,) = chain(A)
    restart = sealed({"seq": 1, "kind": "restart", "prev_sha256": GENESIS})
    assert grew(text(a), text("x")) == differs(1, "a")
    assert grew(text(restart), "") == differs(1, "restart", "is missing")


def test_a_git_that_hangs_is_given_up(tmp_path, monkeypatch):
    monkeypatch.setattr(integrity, "GIT_TIMEOUT", 0.3)
    started = time.monotonic()
    assert integrity._git("sleep", tmp_path, "4") is None
    assert time.monotonic() - started < 3.5  # given up after 0.3 s; 3.5 s leaves room for a loaded machine


# --- integrity: --expect-head ---------------------------------------------------------------------
ENTRIES = [{"seq": 1, "id": "fl-a", "entry_sha256": "1" * 64},
           {"seq": 2, "kind": "repair", "entry_sha256": "2" * 64},
           {"seq": 3, "id": "fl-b", "entry_sha256": "3" * 64}]


@pytest.mark.parametrize(("expected", "note"), [
    ("1" * 64, "expected head 111111111111 is entry 1 (id fl-a); 2 entries added since"),
    ("2" * 64, "expected head 222222222222 is entry 2 (id repair); 1 entry added since"),
    (" " + "3" * 12 + "\n", "expected head 333333333333 is entry 3 (id fl-b); it is the head"),
])
def test_expect_head_notes(expected, note):
    assert integrity.expected_head_problems(ENTRIES, expected, L) == ([], note)


def test_expect_head_problems_have_no_note():
    assert integrity.expected_head_problems(ENTRIES, "xyz", L) == (
        ["--expect-head: `xyz` is not a ledger head; give the hash printed in the papers (at least 12 "
         "hexadecimal digits)"], "")
    assert integrity.expected_head_problems(ENTRIES, "4" * 12, L) == (
        [f"{L}: no entry has the expected head 444444444444: the ledger the papers were made under was "
         "rewritten, shortened or replaced (3 entries now)"], "")


def test_an_entry_without_seq_counts_as_entry_zero():
    """A damaged line without `seq` (the chain check reports it too) is not a position."""
    assert integrity.expected_head_problems([{"id": "x", "entry_sha256": "5" * 64}], "5" * 12, L) == (
        [], "expected head 555555555555 is entry 0 (id x); 1 entry added since")


# --- integrity: recorded heads --------------------------------------------------------------------
def test_a_rewritten_restart_entry_is_named_by_its_kind():
    found = integrity.head_problems([{"seq": 1, "kind": "restart", "entry_sha256": "5" * 64}],
                                    [RecordedHead("analyses/x/result.json", Head("6" * 64, 1))], L)
    assert found == [
        f"{L}: entry 1 (id restart) has hash 555555555555, but analyses/x/result.json recorded 666666666666 "
        "for it: the ledger was rewritten up to that entry (its chain recomputed) — restore it from version "
        "control"]


def test_replaced_heads_read_a_missing_length_as_zero():
    entries = [{"kind": "restart", "previous_head_sha256": GENESIS, "previous_length": 0},
               {"kind": "restart", "previous_head_sha256": "7" * 64},
               {"kind": "registration", "previous_head_sha256": "8" * 64, "previous_length": 2}]
    assert integrity.replaced_heads(entries) == {(GENESIS, 0), ("7" * 64, 0)}


def test_results_made_on_the_empty_ledger_a_restart_replaced_are_stale():
    restart = {"seq": 1, "kind": "restart", "previous_head_sha256": GENESIS, "previous_length": 0}
    recorded = [RecordedHead("analyses/x/result.json", Head(GENESIS, 0))]
    assert integrity.stale_notes([restart], recorded, L) == [
        f"analyses/x/result.json was made under the ledger that the restart entry of {L} replaced (head "
        "000000000000): analyse and render it again"]


def test_recorded_heads_skip_what_they_cannot_read(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    results = {"a": "{not json", "b": json.dumps({"ledger": {"head_sha256": "8" * 64, "length": 3}}),
               "c": json.dumps({"id": "c"}), "d": json.dumps({"ledger": {"head_sha256": "9" * 64, "length": "3"}}),
               "e": json.dumps({"ledger": [1, 2]})}
    for name, content in results.items():
        (ws.analyses / name).mkdir()
        (ws.analyses / name / "result.json").write_text(content, encoding="utf-8")
    page = ws.root / "_site" / "p.html"
    page.parent.mkdir()
    page.write_bytes(b'<p>\xff</p><span data-ledger-head="' + b"9" * 64 + b'" data-ledger-length="2"></span>')
    assert integrity.recorded_heads(ws) == [RecordedHead("analyses/b/result.json", Head("8" * 64, 3)),
                                            RecordedHead("_site/p.html", Head("9" * 64, 2))]


# --- integrity: git history of a real repository ---------------------------------------------------
def git(root, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    ws = init_workspace(tmp_path / "ws")
    git(ws.root, "init", "-q")
    ws.registry.write_text(text(*chain(A, B)))
    git(ws.root, "add", "designs/registry.jsonl")
    git(ws.root, "commit", "-qm", "two entries")
    ws.registry.write_text(text(*chain(A, B, C)))
    git(ws.root, "commit", "-qam", "three entries")
    return ws


def history(ws):
    return integrity.git_history_problems(ws)


def test_a_ledger_outside_the_repository_is_not_checked(repo, tmp_path):
    elsewhere = tmp_path / "elsewhere.jsonl"
    repo.registry.rename(elsewhere)
    repo.registry.symlink_to(elsewhere)
    assert history(repo) == ([], ["the ledger lies outside the workspace's git repository: its history was "
                                  "not checked"])


def test_commits_that_do_not_touch_the_ledger_are_not_versions(repo):
    (repo.root / "README.md").write_text("x")
    git(repo.root, "add", "README.md")
    git(repo.root, "commit", "-qm", "other file")
    assert history(repo) == ([], ["git history: 2 committed version(s) of designs/registry.jsonl checked"])


def test_a_deleted_working_file_is_a_truncation(repo):
    repo.registry.unlink()
    found, notes = history(repo)
    assert len(found) == 1 and re.fullmatch(
        r"designs/registry\.jsonl: line 1 \(id a\) of commit [0-9a-f]{12} \(\d{4}-\d\d-\d\d\) is missing in "
        r"the working file: the ledger was shortened or rewritten in its history — restore it from commit "
        r"[0-9a-f]{12} \(\d{4}-\d\d-\d\d\)", found[0]), found
    assert notes == ["git history: 2 committed version(s) of designs/registry.jsonl checked"]


def test_a_merged_branch_counts_by_its_merge_commit(repo):
    """A side branch that rewrote the ledger and then restored it before it was merged: the
    mainline only ever grew (first-parent history), so nothing is wrong."""
    main = git(repo.root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(repo.root, "switch", "-qc", "side")
    forged = chain({**A, "registrant": "forger"}, B, C)
    repo.registry.write_text(text(*forged))
    git(repo.root, "commit", "-qam", "forged on the side")
    repo.registry.write_text(text(*chain(A, B, C, {"kind": "registration", "id": "d"})))
    git(repo.root, "commit", "-qam", "restored, and one more")
    git(repo.root, "switch", "-q", main)
    git(repo.root, "merge", "-q", "--no-ff", "side", "-m", "merge side")
    assert history(repo) == ([], ["git history: 3 committed version(s) of designs/registry.jsonl checked"])
