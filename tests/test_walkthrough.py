"""The README's walkthrough, run as it stands on a fresh workspace, in the honest order:
new -> check -> diagnose -> register (diagnosis attached) -> data after the start arrive ->
analyse -> report, ending with the registration status and the diagnosis shown."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shlex
from pathlib import Path

from evaluation.cli import main
from evaluation.registry import read_head
from evaluation.workspace import Workspace

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- walkthrough:"
DESIGN_ID = "fl-09-camera-patrols"
START = dt.date(2025, 9, 1)
EDIT = {  # what the README tells the reader to fill in (checked against its comment below)
    'title: "TODO: short title of the intervention"': 'title: "Camerasurveillance en patrouilles"',
    'owner: "TODO: organisation responsible"': 'owner: "Gemeente Amsterdam"',
    'hypothesis: "TODO: the expected effect, stated before looking at the outcome"':
        'hypothesis: "Camera patrols reduce attacks in Amsterdam by at least 10% within 13 weeks."',
    "units: [GM0000]": "units: [GM0363]",
    "start: 2025-04-14": "start: 2025-09-01",
    "start: 2024-01-01": "start: 2024-06-03",
    "end: 2025-12-31": "end: 2025-11-30",
}


def walkthrough_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text[text.index(MARKER):]
    block = block[block.index("```sh\n") + 6:]
    return block[:block.index("```")].splitlines()


def test_the_readme_walkthrough_end_to_end(tmp_path, monkeypatch, capsys):
    lines = walkthrough_lines()
    comment = " ".join(line for line in lines if line.lstrip().startswith("#"))
    assert "treatment: {units: [GM0363], start: 2025-09-01}" in comment
    assert "window: {start: 2024-06-03, end: 2025-11-30}" in comment
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    outputs: list[tuple[str, str]] = []
    for line in lines:
        for part in (p.strip() for p in line.split("&&")):
            words = shlex.split(part, comments=True)
            if not words:
                continue
            if words[0] == "cd":
                os.chdir(words[1])
                continue
            if words[0] != "evaluation":
                continue  # `source .venv/bin/activate`: the tests already run in the venv
            code = main(words[1:])
            out, err = capsys.readouterr()
            assert code == 0, f"`{part}` failed: {err}"
            outputs.append((" ".join(words[1:3]), out))
            if words[1:3] == ["design", "new"]:
                path = Path("designs") / f"{DESIGN_ID}.yaml"
                text = path.read_text(encoding="utf-8")
                for old, new in EDIT.items():
                    assert old in text, old
                    text = text.replace(old, new, 1)
                path.write_text(text, encoding="utf-8")
    said = dict(outputs)
    ws = Workspace(Path.cwd())
    diagnosis = json.loads((ws.designs / f"{DESIGN_ID}.diagnosis.json").read_text())
    sha = diagnosis["sha256"]
    # the diagnosis was made before the start, on data that end the day before it
    assert diagnosis["data_used"]["data_cutoff"] == "2025-08-31"
    assert diagnosis["data_used"]["last_period"] == "2025-08-25"
    # registered with the diagnosis attached, and said so
    timing = "prospective" if dt.date.today() < START else "before_outcome_data"
    words = {"prospective": "prospective: registered before the start",
             "before_outcome_data": "before outcome data: registered after the start, on data that end before it"}
    assert words[timing] in said["register fl-09-camera-patrols"]
    assert f"diagnosis attached: {sha[:12]}" in said["register fl-09-camera-patrols"]
    entry = json.loads(ws.registry.read_text().splitlines()[-1])
    assert (entry["diagnosis_sha256"], entry["timing"], entry["data_cutoff"]) == (sha, timing, "2025-08-31")
    # analysed on the later data, as registered
    result = json.loads((ws.analysis_dir(DESIGN_ID) / "result.json").read_text())
    assert result["registration"] == "registered" and result["registration_timing"] == timing
    assert result["data_cutoff"] > "2025-11-30" and result["ledger"] == read_head(ws.registry).to_dict()
    assert json.loads((ws.analysis_dir(DESIGN_ID) / "diagnosis.json").read_text())["sha256"] == sha
    # the report states the timing, the diagnosis and the ledger head
    page = html.unescape((ws.root / "_site" / "interventions" / f"{DESIGN_ID}.html").read_text())
    dutch = {"prospective": "vooraf: geregistreerd vóór de start",
             "before_outcome_data": "vóór de uitkomstdata: geregistreerd na de start"}
    assert dutch[timing] in page and sha in page
    assert f'data-ledger-head="{entry["entry_sha256"]}" data-ledger-length="1"' in page
    assert "registry OK: 1 entries, 1 designs" in said["registry verify"]
    # ending with the registration status and the diagnosis shown
    final = outputs[-1][1].strip()
    assert re.match(rf"{DESIGN_ID}\s+registered\s+", final)
    assert f"{timing.replace('_', ' ')}; diagnosis {sha[:12]}" in final
    assert "  data used: 2024-06-03 to 2025-08-25, before the start (data cut-off 2025-08-31; " \
           f"history sha256 {diagnosis['data_used']['data_sha256'][:12]})" in said["diagnose fl-09-camera-patrols"]
