"""`make mutation`: mutation testing (mutmut 3) of the core modules, each against its own tests.

For each group below, the tracked files of the working tree are copied to build/mutation/<group>/
(mutmut writes its mutants beside the sources, so the checkout is never touched), the group's
mutmut settings are appended to the copy's pyproject.toml, and `mutmut run` mutates only the
group's modules and runs, for each mutant, only those of the group's tests that execute the
mutated function. The score per module and every survivor (with its diff) are written to
build/mutation/<group>/survivors.md; docs/mutation.md records the reviewed scores.

  .venv/bin/python mutation/run.py                   # every group
  .venv/bin/python mutation/run.py formatting ledger # some groups
  .venv/bin/python mutation/run.py --report decision # summarise a finished run again
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import functools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "mutation"
BIN = Path(sys.executable).parent
TARGET = 0.85  # the least share of mutants killed in each core module (issue 22)

# group: (modules to mutate, tests that cover them, mutant-name globs or None for all)
GROUPS: dict[str, tuple[list[str], list[str], list[str] | None]] = {
    "formatting": (["evaluation/report/formatting.py"], ["tests/test_formatting.py"], None),
    "decision": (["evaluation/design/decision_rule.py", "evaluation/analysis/decision.py"],
                 ["tests/test_decision.py", "tests/test_decision_basis.py",
                  "tests/test_decision_properties.py", "tests/test_decision_contract.py",
                  "tests/test_decision_mutants.py"], None),
    "ledger": (["evaluation/registry/ledger.py", "evaluation/registry/integrity.py"],
               ["tests/test_registry.py", "tests/test_registry_integrity.py",
                "tests/test_ledger_properties.py", "tests/test_ledger_restart.py",
                "tests/test_ledger_mutants.py"], None),
    "store": (["evaluation/data/store.py", "evaluation/data/validation.py"],
              ["tests/test_store.py", "tests/test_store_versions.py",
               "tests/test_store_properties.py", "tests/test_store_mutants.py"], None),
    "randomization": (["evaluation/estimators/did/randomization.py",
                       "evaluation/estimators/confidence.py"],
                      # test_did_inference's interval searches take minutes per mutant
                      ["tests/test_randomization_hand.py", "tests/test_confidence.py",
                       "tests/test_decision_properties.py", "tests/test_randomization_mutants.py"],
                      None),
    "its": (["evaluation/estimators/its/inference.py", "evaluation/estimators/its/counterfactual.py",
             "evaluation/estimators/its/blocks.py"],
            ["tests/test_its.py", "tests/test_its_counterfactual.py", "tests/test_its_blocks.py",
             "tests/test_its_block_shrinkage.py", "tests/test_its_mutants.py"], None),
    # the posterior summaries only (moved to bayes/sensitivity.py), on fixed draws: a mutant in
    # the sampling code would need a fit per mutant
    "bayes": (["evaluation/estimators/bayes/sensitivity.py"],
              ["tests/test_bayes_summaries.py", "tests/test_bayes_sensitivity.py"],
              [f"evaluation.estimators.bayes.sensitivity.x_{name}__mutmut_*" for name in
               ("hdi", "effect_summary", "weighted_hdi", "_sorted_hdi", "weighted_effect_summary",
                "conclusion")]),
}

# [tool.mutmut] settings of one group over those of prepare()
GROUP_SETTINGS: dict[str, dict[str, object]] = {
    # pyfixest's Rust demeaner runs on a rayon thread pool; a child forked from mutmut's main
    # process (which ran every test for the stats) inherits the pool without its threads and
    # hangs in the first fixed-effects fit of a larger panel, so each surviving mutant ended as
    # a (false) timeout. The fork server never runs a test before forking.
    "randomization": {"process_isolation": "forkserver"},
}


def prepare(group: str) -> Path:
    modules, tests, _ = GROUPS[group]
    work = BUILD / group
    shutil.rmtree(work, ignore_errors=True)
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                             check=True, capture_output=True, text=True).stdout.split()
    for name in tracked:
        source = REPO / name
        if source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
    settings = {"source_paths": ["evaluation"], "only_mutate": modules,
                "pytest_add_cli_args_test_selection": [
                    t for t in tests if (REPO / t.split("::")[0]).exists()],
                # not the slow ones: a calibration grid or a million-row import would run for
                # every mutant of its module (minutes each), and each has a fast counterpart
                "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-m", "not slow"],
                "use_git_change_detection": False, **GROUP_SETTINGS.get(group, {})}
    with (work / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[tool.mutmut]\n")
        for key, value in settings.items():
            handle.write(f"{key} = {json.dumps(value)}\n")
    return work


def run(group: str) -> dict[str, dict[str, int]]:
    work = prepare(group)
    names = GROUPS[group][2] or []
    started = time.monotonic()
    with (work / "mutmut.log").open("w") as log:
        subprocess.run([str(BIN / "mutmut"), "run", "--max-children", "2", *names], cwd=work,
                       env=environment(), stdout=log, stderr=subprocess.STDOUT, check=False)
    return report(group, seconds=time.monotonic() - started)


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "EVALUATION_BENCHMARKS": os.environ.get("EVALUATION_BENCHMARKS",
                                                    str(REPO.parent / "shared" / "benchmarks"))}


def report(group: str, *, seconds: float | None = None) -> dict[str, dict[str, int]]:
    """Scores per module and the survivors' diffs of the run in build/mutation/<group>/."""
    work = BUILD / group
    names = GROUPS[group][2]
    scores: dict[str, dict[str, int]] = {}
    survivors: list[str] = []
    for name, status in statuses(work):
        if names and not any(fnmatch.fnmatch(name, pattern) for pattern in names):
            continue  # a mutant of a function this group does not test
        module = name.split(".x")[0]
        counts = scores.setdefault(module, {})
        counts[status] = counts.get(status, 0) + 1
        if status not in ("killed", "skipped", "not checked"):
            changed = mutant_diff(work, name)
            survivors.append(f"- `{name}` ({status})\n\n```diff\n" + "\n".join(changed) + "\n```\n")
    took = "" if seconds is None else f", {seconds:.0f} s"
    lines = [f"# Mutation testing: {group} ({time.strftime('%Y-%m-%d')}{took})\n"]
    for module, counts in sorted(scores.items()):
        lines.append(f"- {module}: {summary(counts)}")
    lines += ["", "## Survivors", "", *survivors]
    (work / "survivors.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return scores


# mutmut's exit codes (mutmut/stats.py), read from its .meta files: `mutmut results` is slow
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", None: "not checked"}


def statuses(work: Path) -> list[tuple[str, str]]:
    found = []
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        found += [(name, STATUS.get(code, "suspicious")) for name, code in sorted(codes.items())]
    return found


@functools.cache
def functions(path: Path) -> dict[str, str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    return {node.name: "\n".join(lines[node.lineno - 1:node.end_lineno])
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def mutant_diff(work: Path, name: str) -> list[str]:
    """The changed lines of a mutant: its function against the original in mutants/ (fast; the
    same as `mutmut show`, which is slow on a loaded machine)."""
    module, _, function = name.rpartition(".")
    found = functions(work / "mutants" / (module.replace(".", "/") + ".py"))
    original = found.get(function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "")
    mutant = found.get(function, "")
    lines = difflib.unified_diff(original.splitlines()[1:], mutant.splitlines()[1:], lineterm="", n=0)
    return [d for d in lines if d[:1] in "+-" and d[:3] not in ("+++", "---")]


def summary(counts: dict[str, int]) -> str:
    total = sum(n for status, n in counts.items() if status not in ("skipped", "not checked"))
    killed = counts.get("killed", 0)
    score = killed / total if total else float("nan")
    flag = "" if score >= TARGET else f"  BELOW {TARGET:.0%}"
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"{killed}/{total} killed ({score:.1%}; {detail}){flag}"


def main(argv: list[str]) -> int:
    only_report = "--report" in argv
    groups = [g for g in argv if g != "--report"] or list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        print(f"mutation: unknown group {unknown[0]!r}; use one of {', '.join(GROUPS)}")
        return 2
    below = False
    for group in groups:
        print(f"mutation: {group} ...", flush=True)
        scores = report(group) if only_report else run(group)
        for module, counts in sorted(scores.items()):
            print(f"  {module}: {summary(counts)}", flush=True)
            below |= summary(counts).endswith(f"BELOW {TARGET:.0%}")
        print(f"  survivors: {BUILD / group / 'survivors.md'}", flush=True)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
