"""The ledger file itself: `designs/registry.jsonl`, append-only and hash-chained.

Each line is one JSON entry. Design entries (kind "registration" or "amendment") hold the
canonical design, its SHA-256, who registered it and when, what data existed at that moment
(cut-off, hash of the pre-period rows, whether post-period data already existed), the attached
diagnosis and the units other registered designs treated. Ledger entries (kind "repair": a torn
last line was removed; "restart": the ledger was begun afresh, naming the head of the one it
replaces) have no design. Every entry has `seq` (1, 2, ...), `prev_sha256` (the entry hash of the
line before; the first line points to 64 zeros) and `entry_sha256` (SHA-256 of the entry's
canonical JSON without that field). Editing, removing, inserting or reordering a line therefore
breaks the chain at a line `verify` can name; removing lines from the end, or recomputing the
whole chain, is caught by the ledger head (`head`: last entry hash and length) that results,
reports and the committee's papers record (see `evaluation.registry.integrity`).

Writers hold an exclusive lock (fcntl.flock on `registry.jsonl.lock`) around reading the last entry
and appending, and append each entry with a single write followed by fsync, so that concurrent
`evaluation register` runs neither lose nor interleave entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.design.model import canonical_json
from evaluation.errors import RegistryError

GENESIS_SHA256 = "0" * 64
LOCK_SUFFIX = ".lock"
DESIGN_KINDS = ("registration", "amendment")
LEDGER_KINDS = ("repair", "restart")  # entries about the ledger itself, without a design


# --- entries and hashes -----------------------------------------------------------------------
def self_sha256(record: dict[str, Any], field: str) -> str:
    """SHA-256 of a record's canonical JSON without the field that holds this very hash (ledger
    entries: `entry_sha256`; diagnosis files: `sha256`)."""
    body = {k: v for k, v in record.items() if k != field}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def entry_sha256(entry: dict[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON, leaving out the `entry_sha256` field itself."""
    return self_sha256(entry, "entry_sha256")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LedgerLine:
    number: int  # 1-based line number in the file
    text: str
    entry: dict[str, Any] | None  # None when the line is not a JSON object
    complete: bool  # the line ended with a newline


def read_lines(path: Path) -> list[LedgerLine]:
    """Every line of the ledger as written, parsed where possible (never raises on content)."""
    if not path.exists():
        return []
    return parse_lines(path.read_bytes().decode("utf-8", errors="replace"))


def parse_lines(raw: str) -> list[LedgerLine]:
    """The lines of ledger text (a file's, or a committed version's), parsed where possible."""
    lines: list[LedgerLine] = []
    parts = raw.split("\n")
    for number, text in enumerate(parts, start=1):
        complete = number < len(parts)
        if not complete and text == "":
            break  # the file ends with a newline: nothing after it
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        lines.append(LedgerLine(number, text, value if isinstance(value, dict) else None, complete))
    return lines


def _describe_entry(line: LedgerLine) -> str:
    if line.entry and line.entry.get("kind") in LEDGER_KINDS and "id" not in line.entry:
        return f"line {line.number} ({line.entry['kind']})"
    ident = line.entry.get("id", "?") if line.entry else "?"
    return f"line {line.number} (id {ident})"


@dataclass(frozen=True)
class Head:
    """Where the ledger stands: its last entry hash and its number of entries."""

    sha256: str
    length: int

    def to_dict(self) -> dict[str, Any]:
        return {"head_sha256": self.sha256, "length": self.length}

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.length} entries)"


def head(entries: list[dict[str, Any]]) -> Head:
    """The head of a ledger with these entries (the genesis hash for an empty ledger)."""
    return Head(str(entries[-1].get("entry_sha256")) if entries else GENESIS_SHA256, len(entries))


def read_head(ledger: Path) -> Head:
    """The head of the ledger file (refuses a ledger with unreadable lines)."""
    return head(read_entries(ledger))


def chain_problems(lines: list[LedgerLine], ledger: Path | str) -> list[str]:
    """Every break of the hash chain, each named by line number, id and what is wrong."""
    problems: list[str] = []
    expected_prev, expected_seq = GENESIS_SHA256, 1
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if line.entry is None:
            if last and not line.complete:
                problems.append(
                    f"{ledger}: line {line.number} is incomplete (not valid JSON, no line end): a write was "
                    "interrupted, e.g. by a crash; that entry was never recorded. Repair with "
                    "`evaluation registry repair` (removes only that last line), then run the command again"
                )
            elif not line.text.strip():
                problems.append(f"{ledger}: line {line.number} is empty: a line was removed or inserted by hand")
            else:
                problems.append(f"{ledger}: line {line.number} is not a valid JSON entry: it was edited by hand")
            continue
        entry, where = line.entry, _describe_entry(line)
        if entry.get("entry_sha256") != entry_sha256(entry):
            problems.append(
                f"{ledger}: {where}: entry hash mismatch: the line was edited after it was written"
            )
        elif entry.get("design") is not None and entry.get("design_sha256") != sha256_text(
            canonical_json(entry["design"])
        ):
            problems.append(f"{ledger}: {where}: design_sha256 does not match the design stored in the line")
        seq = entry.get("seq")
        if entry.get("prev_sha256") != expected_prev:
            if isinstance(seq, int) and seq > expected_seq:
                missing = f"entry {expected_seq}" if seq == expected_seq + 1 else f"entries {expected_seq}..{seq - 1}"
                why = f"{missing} missing: a line was removed before it"
            elif isinstance(seq, int) and seq < expected_seq:
                why = f"seq {seq} follows seq {expected_seq - 1}: lines were reordered or a line was inserted"
            else:
                why = "the line before it was replaced, or a line was inserted before it"
            problems.append(
                f"{ledger}: {where}: prev_sha256 does not match the entry hash of the line before: {why}"
            )
        elif seq != expected_seq:
            problems.append(f"{ledger}: {where}: seq is {seq}, expected {expected_seq}: the line was edited")
        # resynchronise on this line so that one tamper is reported once, not at every later line
        expected_prev = entry.get("entry_sha256", "")
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
    return problems


def read_entries(ledger: Path) -> list[dict[str, Any]]:
    """The ledger's entries; refuses a ledger with unreadable lines (see `evaluation registry verify`)."""
    lines = read_locked(ledger)
    bad = [line.number for line in lines if line.entry is None]
    if bad:
        raise RegistryError(
            f"{ledger}: line(s) {', '.join(map(str, bad))} are not valid entries; run `evaluation registry verify` "
            "for the details (and `evaluation registry repair` when only the last line is incomplete)"
        )
    return [line.entry for line in lines if line.entry is not None]


def design_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries about designs (registrations and amendments), in ledger order."""
    return [e for e in entries if e.get("kind") not in LEDGER_KINDS]


def entries_by_id(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in design_entries(entries):
        grouped.setdefault(str(entry.get("id")), []).append(entry)
    return grouped


# --- writing -------------------------------------------------------------------------------------
@contextlib.contextmanager
def ledger_lock(ledger: Path, *, shared: bool = False) -> Iterator[None]:
    """Lock file beside the ledger: exclusive for writers (read-last-entry + append), shared for
    readers so that they never see half an append. A reader without write access reads unlocked."""
    lock_path = ledger.with_name(ledger.name + LOCK_SUFFIX)
    try:
        if not shared:
            ledger.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if not shared:
            raise RegistryError(f"{lock_path}: cannot create the ledger lock; check that designs/ is writable") from None
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_locked(ledger: Path) -> list[LedgerLine]:
    if not ledger.exists():
        return []
    with ledger_lock(ledger, shared=True):
        return read_lines(ledger)


def _append_line(ledger: Path, text: str) -> None:
    data = text.encode("utf-8")
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):  # a regular file takes it in one go; be safe anyway
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def append_entry(ledger: Path, build: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
    """Under the lock: check the chain, let `build(entries)` make the entry, chain it and append it."""
    with ledger_lock(ledger):
        return _append_locked(ledger, read_lines(ledger), build)


def _append_locked(ledger: Path, lines: list[LedgerLine],
                   build: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
    problems = chain_problems(lines, ledger)
    if problems:
        raise RegistryError(f"the ledger is damaged, nothing was written: {problems[0]}")
    entries = [line.entry for line in lines if line.entry is not None]
    entry = _chained(build(entries), entries)
    # a last line without its newline (valid, but cut just before "\n") must not swallow ours
    lead = "\n" if lines and not lines[-1].complete else ""
    _append_line(ledger, lead + json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def _chained(body: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    entry = {"seq": len(entries) + 1, **body,
             "prev_sha256": entries[-1]["entry_sha256"] if entries else GENESIS_SHA256}
    entry["entry_sha256"] = entry_sha256(entry)
    return entry


def _replace_file(ledger: Path, text: str) -> None:
    tmp = ledger.with_name(ledger.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, ledger)


def repair_last_line(ledger: Path, *, record: Callable[[LedgerLine], dict[str, Any]]) -> str | None:
    """Remove a last line left incomplete by a crash and append the entry `record(removed line)`
    saying so; returns a note, or None when there is nothing to repair."""
    with ledger_lock(ledger):
        lines = read_lines(ledger)
        if not lines or lines[-1].entry is not None or lines[-1].complete:
            earlier = [line.number for line in lines if line.entry is None]
            if earlier:
                raise RegistryError(
                    f"{ledger}: line(s) {', '.join(map(str, earlier))} are damaged but not an interrupted last "
                    "write; repair only removes an incomplete last line — restore the ledger from version control"
                )
            return None
        torn, kept = lines[-1], lines[:-1]
        if chain_problems(kept, ledger):
            raise RegistryError(f"{ledger}: the lines before the incomplete line {torn.number} are damaged too; "
                                "restore the ledger from version control")
        _replace_file(ledger, "".join(line.text + "\n" for line in kept))
        entry = _append_locked(ledger, kept, lambda _entries: record(torn))
        return (f"removed the incomplete line {torn.number} ({len(torn.text)} characters) and logged "
                f"the repair as entry {entry['seq']}")


def restart(ledger: Path, *, record: Callable[[Head], dict[str, Any]]) -> dict[str, Any]:
    """Begin the ledger afresh with the single entry `record(head of the ledger it replaces)`.

    Only for a ledger whose designs must all be registered again (the demo's, after a change of
    the design schema changes every hash): the restart entry names the replaced head, so that the
    ledger's git history and every recorded head show the break instead of hiding it."""
    with ledger_lock(ledger):
        lines = read_lines(ledger)
        problems = chain_problems(lines, ledger)
        if problems:
            raise RegistryError(f"the ledger is damaged, it was not restarted: {problems[0]}")
        previous = head([line.entry for line in lines if line.entry is not None])
        entry = _chained(record(previous), [])
        _replace_file(ledger, json.dumps(entry, ensure_ascii=False) + "\n")
    return entry
