"""Byte-identical result files under any Python hash seed (issue 18), without re-executing the
command under a fixed seed: two processes with different PYTHONHASHSEED values write the files,
which are compared byte for byte."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# A workspace with a relative data source (the design hash does not depend on the folder), its
# DiD design with randomization inference analysed through the command line.
CLI_RUN = textwrap.dedent("""
    import sys, yaml
    sys.path.insert(0, {tests!r})
    from test_analysis import _design, _panel
    from evaluation.cli import main
    from evaluation.workspace import init_workspace
    ws = init_workspace(sys.argv[1])
    _panel().to_csv(ws.root / "data" / "panel.csv", index=False)
    design = _design(analysis={{"inference": "randomization", "randomization_draws": 200}})
    design["data"]["source"] = "data/panel.csv"
    (ws.designs / "pilot.yaml").write_text(yaml.safe_dump(design), encoding="utf-8")
    sys.exit(main(["--workspace", str(ws.root), "analyse", "pilot", "--exploratory"]))
""")

# One Bayesian fit from Python: its summary (as result.json would hold it) and posterior.nc.
BAYES_RUN = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from evaluation.estimators.bayes import fit_bayesian, save_posterior
    from evaluation.files import clean
    from evaluation.simulation.panels import simulate_panel
    out = Path(sys.argv[1]); out.mkdir(parents=True)
    data = simulate_panel(n_units=16, n_periods=30, n_treated=3, start=20, rate_ratio=0.7,
                          events_per_period=30, seed=5)
    fit = fit_bayesian(data, chains=2, draws=300, tune=300, prior_sensitivity=False)
    (out / "summary.json").write_text(json.dumps(clean(fit.summary), sort_keys=True, indent=1))
    save_posterior(fit.idata, out / "posterior.nc")
""")


def _run(script: str, target: Path, seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": seed, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", script, str(target)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _two_seeds(script: str, tmp_path: Path) -> tuple[Path, Path]:
    # both processes at once: the machine's two cores, half the wall time
    runs = {seed: _run(script, tmp_path / f"seed{seed}", seed) for seed in ("1", "12345")}
    for seed, process in runs.items():
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, f"PYTHONHASHSEED={seed}: {err[-2000:]}"
    return tmp_path / "seed1", tmp_path / "seed12345"


def _same_files(first: Path, second: Path) -> list[str]:
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert not errors
    return mismatch


@pytest.mark.slow  # two fresh processes: ~40 s on the shared machine
def test_did_with_randomization_inference_gives_the_same_bytes_under_two_hash_seeds(tmp_path):
    first, second = _two_seeds(CLI_RUN.format(tests=str(TESTS)), tmp_path)
    folder = Path("analyses") / "pilot"
    assert (first / folder / "result.json").exists()
    assert _same_files(first / folder, second / folder) == []


@pytest.mark.slow
def test_a_bayesian_fit_gives_the_same_bytes_under_two_hash_seeds(tmp_path):
    first, second = _two_seeds(BAYES_RUN, tmp_path)
    assert _same_files(first, second) == []
