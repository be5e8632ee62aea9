"""What the ledger is checked against beyond its own hash chain.

The chain catches an edited, removed, inserted or reordered line, but not lines removed from the
end, an emptied file, or a forger who recomputes every hash after an edit: the file alone cannot
tell. So the ledger's head (last entry hash and length) is recorded outside it, and checked here:

- every result (`analyses/<id>/result.json`, key `ledger`) and every rendered page
  (`_site/**/*.html`, `data-ledger-head` / `data-ledger-length` in the footer) records the head
  it was made under; that entry must still be in the ledger, with that hash, at that position;
- `--expect-head HASH`: the head printed in the committee's papers must be an entry of the ledger;
- when the workspace is a git repository: every committed version of `designs/registry.jsonl`
  (and the working file) must begin with the version committed before it: the ledger only ever
  grew. A `restart` entry that names the replaced head explains a fresh start and is reported.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.registry.ledger import Head, LedgerLine, chain_problems, parse_lines, read_lines
from evaluation.workspace import Workspace

RESULT_GLOB = "*/result.json"  # analyses/<id>/result.json (evaluation.analysis.result)
RESULT_KEY = "ledger"
SITE_FOLDER = "_site"
PAGE_HEAD = re.compile(r'data-ledger-head="([0-9a-f]{64})"\s+data-ledger-length="(\d+)"')
MIN_PREFIX = 12  # a head printed on paper may be shortened to this many hex digits
GIT_TIMEOUT = 60


@dataclass(frozen=True)
class RecordedHead:
    where: str  # the file that recorded it, relative to the workspace
    head: Head


def recorded_heads(workspace: Workspace) -> list[RecordedHead]:
    """Every ledger head recorded by a result or a rendered page of the workspace."""
    found: list[RecordedHead] = []
    for path in sorted(workspace.analyses.glob(RESULT_GLOB)):
        try:
            block = json.loads(path.read_text(encoding="utf-8")).get(RESULT_KEY)
        except (OSError, ValueError, AttributeError):
            continue  # not ours to judge here: the report says when a result cannot be read
        if isinstance(block, dict) and isinstance(block.get("length"), int):
            found.append(RecordedHead(_relative(path, workspace),
                                      Head(str(block.get("head_sha256")), block["length"])))
    site = workspace.root / SITE_FOLDER
    for path in sorted(site.rglob("*.html")) if site.is_dir() else []:
        for sha, length in sorted(set(PAGE_HEAD.findall(path.read_text(encoding="utf-8", errors="replace")))):
            found.append(RecordedHead(_relative(path, workspace), Head(sha, int(length))))
    return found


def replaced_heads(entries: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """The heads that restart entries of this ledger name as replaced (hash, length)."""
    return {(str(e.get("previous_head_sha256")), int(e.get("previous_length") or 0))
            for e in entries if e.get("kind") == "restart"}


def stale_notes(entries: list[dict[str, Any]], recorded: list[RecordedHead], ledger: str) -> list[str]:
    """Results and pages made under a ledger that a restart entry replaced: not a rewrite (the
    restart is itself an entry of the chain, naming that head), but out of date."""
    replaced = replaced_heads(entries)
    return _once([f"{item.where} was made under the ledger that the restart entry of {ledger} "
                  f"replaced (head {item.head.sha256[:12]}): analyse and render it again"
                  for item in recorded if (item.head.sha256, item.head.length) in replaced])


def head_problems(entries: list[dict[str, Any]], recorded: list[RecordedHead], ledger: str) -> list[str]:
    """A recorded head that the ledger no longer holds: entries removed from its end, or rewritten."""
    problems = []
    replaced = replaced_heads(entries)
    for item in recorded:
        sha, length = item.head.sha256, item.head.length
        if length == 0 or (sha, length) in replaced:
            continue  # made on an empty ledger, or under one a restart replaced (stale_notes)
        if length > len(entries):
            problems.append(
                f"{ledger}: entry {length} (hash {sha[:12]}) is gone: {item.where} was made when the "
                f"ledger had {length} entries, it now has {len(entries)}; entries were removed from its "
                "end (or it was emptied) — restore it from version control")
        elif entries[length - 1].get("entry_sha256") != sha:
            entry = entries[length - 1]
            problems.append(
                f"{ledger}: entry {length} (id {entry.get('id', entry.get('kind'))}) has hash "
                f"{str(entry.get('entry_sha256'))[:12]}, but {item.where} recorded {sha[:12]} for it: "
                "the ledger was rewritten up to that entry (its chain recomputed) — restore it from "
                "version control")
    return _once(problems)


def expected_head_problems(entries: list[dict[str, Any]], expected: str, ledger: str) -> tuple[list[str], str]:
    """--expect-head: the head printed in the committee's papers must be an entry of the ledger.
    Returns (problems, note)."""
    wanted = expected.strip().lower()
    if not re.fullmatch(rf"[0-9a-f]{{{MIN_PREFIX},64}}", wanted):
        return [f"--expect-head: `{expected}` is not a ledger head; give the hash printed in the "
                f"papers (at least {MIN_PREFIX} hexadecimal digits)"], ""
    hits = [e for e in entries if str(e.get("entry_sha256", "")).startswith(wanted)]
    if not hits:
        return [f"{ledger}: no entry has the expected head {wanted[:12]}: the ledger the papers "
                f"were made under was rewritten, shortened or replaced ({len(entries)} entries now)"], ""
    seq = int(hits[0].get("seq", 0))
    later = len(entries) - seq
    note = (f"expected head {wanted[:12]} is entry {seq} (id {hits[0].get('id', hits[0].get('kind'))})"
            + (f"; {later} entr{'y' if later == 1 else 'ies'} added since" if later else "; it is the head"))
    return [], note


# --- git history ---------------------------------------------------------------------------------
def git_history_problems(workspace: Workspace) -> tuple[list[str], list[str]]:
    """(problems, notes): every committed version of the ledger begins with the one before it."""
    git = shutil.which("git")
    if git is None:
        return [], ["git is not installed: the ledger's committed history was not checked"]
    root = _git(git, workspace.root, "rev-parse", "--show-toplevel")
    if root is None:
        return [], ["the workspace is not a git repository: the ledger's committed history was not checked"]
    top = Path(root.strip())
    try:
        rel = workspace.registry.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return [], ["the ledger lies outside the workspace's git repository: its history was not checked"]
    # --first-parent: the mainline; a merged branch counts by its merge commit, never by siblings
    log = _git(git, top, "log", "--first-parent", "--reverse", "--format=%H %cs", "--", rel) or ""
    versions: list[tuple[str, list[LedgerLine]]] = []
    for line in log.splitlines():
        commit, _, date = line.partition(" ")
        text = _git(git, top, "show", f"{commit}:{rel}")
        if text is not None:
            versions.append((f"commit {commit[:12]} ({date})", parse_lines(text)))
    if not versions:
        return [], [f"{rel} has no committed version yet: its history was not checked"]
    versions.append(("the working file", read_lines(workspace.registry)))
    problems, notes = [], []
    for (old_name, old), (new_name, new) in zip(versions, versions[1:], strict=False):
        problem, note = _grew(old, new, old_name=old_name, new_name=new_name, ledger=rel)
        problems += [problem] if problem else []
        notes += [note] if note else []
    notes.append(f"git history: {len(versions) - 1} committed version(s) of {rel} checked")
    return problems, notes


def _grew(old: list[LedgerLine], new: list[LedgerLine], *, old_name: str, new_name: str,
          ledger: str) -> tuple[str | None, str | None]:
    """None, or the problem when `new` does not begin with `old`; a note for a restart."""
    for index, line in enumerate(old):
        if index >= len(new) or new[index].text.rstrip("\r") != line.text.rstrip("\r"):
            restarted = _restart_of(old, new, ledger)
            if restarted is not None:
                return None, f"{ledger} was restarted in {new_name}: {restarted}"
            what = "is missing" if index >= len(new) else "differs"
            ident = line.entry.get("id", line.entry.get("kind")) if line.entry else "?"
            return (f"{ledger}: line {line.number} (id {ident}) of {old_name} {what} in {new_name}: "
                    "the ledger was shortened or rewritten in its history — restore it from "
                    f"{old_name}"), None
    return None, None


def _restart_of(old: list[LedgerLine], new: list[LedgerLine], ledger: str) -> str | None:
    """A description of the restart when `new` opens with a restart entry naming `old`'s head."""
    first = new[0].entry if new else None
    entries = [line.entry for line in old if line.entry is not None]
    if not first or first.get("kind") != "restart" or chain_problems(old, ledger):
        return None
    previous = Head(entries[-1]["entry_sha256"], len(entries)) if entries else Head("0" * 64, 0)
    if (first.get("previous_head_sha256"), first.get("previous_length")) != (previous.sha256, previous.length):
        return None
    return (f"begun afresh on {first.get('timestamp')} by {first.get('registrant')} "
            f"({first.get('reason')}); the replaced ledger had head {previous}")


def _git(git: str, cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _relative(path: Path, workspace: Workspace) -> str:
    try:
        return path.relative_to(workspace.root).as_posix()
    except ValueError:
        return str(path)


def _once(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
