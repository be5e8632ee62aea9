"""Property tests of the ledger's tamper evidence (issue 22): whatever single change is made to
registry.jsonl, `registry.verify` fails.

- The hash chain alone (no recorded head) catches: an edit that changes what any line says
  (a character, a field's value, with or without the forger recomputing that line's own hash,
  the last line included), deleting any line but the last, swapping two lines, duplicating a line.
- Removing entries from the end, or rewriting the last line with its hash recomputed, leaves a
  valid chain; the head printed in the committee's papers (`expect_head`) catches those.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_registry import registered

from evaluation import registry
from evaluation.registry import ledger
from evaluation.workspace import init_workspace

N_LINES = 4  # registered(ws, n=3): three registrations and one amendment


@pytest.fixture(scope="module")
def ledger_ws(tmp_path_factory):
    ws = registered(init_workspace(tmp_path_factory.mktemp("ledger") / "ws"))
    text = ws.registry.read_text(encoding="utf-8")
    result = registry.verify(ws, history=False)
    assert result.ok and result.n_entries == N_LINES, result.problems
    return ws, text, result.head


def verified(ws, text: str, **kwargs):
    """Verify the workspace with the ledger replaced by `text` (the original is put back after)."""
    original = ws.registry.read_text(encoding="utf-8")
    ws.registry.write_text(text, encoding="utf-8")
    try:
        return registry.verify(ws, history=False, **kwargs)
    finally:
        ws.registry.write_text(original, encoding="utf-8")


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def joined(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


LINE = st.integers(0, N_LINES - 1)


@given(index=LINE, position=st.integers(0, 10_000), char=st.characters(
    min_codepoint=33, max_codepoint=0x2FF, exclude_characters="\n\r"))
def test_any_character_edit_that_changes_a_line_is_caught_by_the_chain(ledger_ws, index, position,
                                                                       char):
    ws, text, _ = ledger_ws
    lines = lines_of(text)
    line = lines[index]
    at = position % len(line)
    assume(not line[at].isspace() and line[at] != char)
    edited = line[:at] + char + line[at + 1:]
    try:
        assume(json.loads(edited) != json.loads(line))  # the same entry written differently is no edit
    except json.JSONDecodeError:
        pass  # an unreadable line is an edit too
    lines[index] = edited
    assert not verified(ws, joined(lines)).ok


def leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaf_paths(item, (*prefix, i))
    else:
        yield prefix


def changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if value is None:
        return "x"
    return str(value) + "x"


def set_path(entry, path, new):
    target = entry
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new


@given(index=LINE, pick=st.integers(0, 10_000), rehash=st.booleans())
def test_any_field_edit_is_caught(ledger_ws, index, pick, rehash):
    """A field changed; `rehash`: the forger also recomputes that line's entry_sha256. Caught by
    the chain, except a rehashed last line that keeps its link: that needs the recorded head."""
    ws, text, head = ledger_ws
    lines = lines_of(text)
    entry = json.loads(lines[index])
    paths = [p for p in leaf_paths(entry) if p != ("entry_sha256",) or not rehash]
    path = paths[pick % len(paths)]
    target = entry
    for key in path:
        target = target[key]
    set_path(entry, path, changed(target))
    if rehash:
        entry["entry_sha256"] = ledger.entry_sha256(entry)
    lines[index] = json.dumps(entry)
    tampered = joined(lines)
    if rehash and index == N_LINES - 1 and path[0] not in ("prev_sha256", "seq"):
        # the last line rewritten with a fresh hash keeps a valid chain: the papers' head catches it
        assert not verified(ws, tampered, expect_head=head.sha256).ok
    else:
        assert not verified(ws, tampered).ok


@given(index=st.integers(0, N_LINES - 2))
def test_deleting_a_line_before_the_last_is_caught_by_the_chain(ledger_ws, index):
    ws, text, _ = ledger_ws
    lines = lines_of(text)
    del lines[index]
    assert not verified(ws, joined(lines)).ok


@given(first=LINE, second=LINE)
def test_swapping_two_lines_is_caught_by_the_chain(ledger_ws, first, second):
    assume(first != second)
    ws, text, _ = ledger_ws
    lines = lines_of(text)
    lines[first], lines[second] = lines[second], lines[first]
    assert not verified(ws, joined(lines)).ok


@given(source=LINE, at=st.integers(0, N_LINES))
def test_a_duplicated_line_is_caught_by_the_chain(ledger_ws, source, at):
    ws, text, _ = ledger_ws
    lines = lines_of(text)
    lines.insert(at, lines[source])
    assert not verified(ws, joined(lines)).ok


@given(keep=st.integers(0, 100_000))
def test_any_truncation_is_caught_by_the_recorded_head(ledger_ws, keep):
    """Cutting the file anywhere (whole lines from the end, or inside a line) fails verification
    against the head the papers recorded."""
    ws, text, head = ledger_ws
    cut = text[: keep % len(text)]
    assert not verified(ws, cut, expect_head=head.sha256).ok


def test_the_untouched_ledger_verifies_with_its_head(ledger_ws):
    ws, text, head = ledger_ws
    assert verified(ws, text, expect_head=head.sha256).ok
    assert head.length == N_LINES and len(head.sha256) == 64
