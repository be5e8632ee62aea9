"""The main job on the synthetic demo data (`evaluation demo`, `make demo`).

generate -> import -> verify the registry -> analyse all designs -> portfolio -> render -> print.
Everything it writes (data/, analyses/, _site/, reports/interventions/) is git-ignored.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation import defaults
from evaluation.errors import EvaluationError, RegistryError
from evaluation.workspace import Workspace


def load_demo_data(ws: Workspace, *, seed: int | None = None, echo: Callable[[str], None] = print) -> dict[str, Path]:
    """Generate the demo files into data/demo/ and import them into the workspace's store."""
    from evaluation.demo.data import write_demo_data

    paths = write_demo_data(ws.data / "demo", seed=seed if seed is not None else defaults.DEMO_SEED)
    db = ws.db_path()
    report = import_demo_files(paths, db)
    if report.quarantined:
        raise EvaluationError(
            f"{paths['incidents']}: {report.quarantined} demo rows were quarantined (the store at {db} holds "
            "other data for the same incident ids); remove the database or use --seed of the earlier demo"
        )
    shutil.copyfile(paths["neighbours"], ws.neighbours)
    echo(f"demo data: {report.rows_read} synthetic incidents in {paths['incidents']} "
         f"({report.stored_new} new, {report.already_present} already present) -> {db}")
    return paths


def import_demo_files(paths: dict[str, Path], db: Path) -> Any:
    """The municipality reference first (incident codes are checked against it), then the
    population, then the incidents; returns the incident import's report."""
    from evaluation.data.municipalities import import_municipalities
    from evaluation.data.store import import_incidents
    from evaluation.data.units import import_units

    import_municipalities(paths["municipalities"], db_path=db)
    import_units(paths["units"], db_path=db)
    return import_incidents(paths["incidents"], db_path=db)


def verify_registry(ws: Workspace, *, echo: Callable[[str], None] = print) -> None:
    from evaluation.registry import verify

    check = verify(ws)
    if not check.ok:
        raise RegistryError("registry verify failed: " + " | ".join(check.problems))
    echo(f"registry OK: {check.entries} entries, {check.designs} designs")


def run_demo(ws: Workspace, *, seed: int | None = None, lang: str = defaults.LANGUAGE,
             render: bool = True, echo: Callable[[str], None] = print,
             force: bool = False, only: tuple[str, ...] = ()) -> dict:
    """Run the whole main job; returns {id: result} and prints one line per intervention.

    A result (and the site) whose inputs are unchanged since the last run is reused and said so;
    `force` runs every analysis and renders every page again. `only` restricts the analyses to
    these design ids (the portfolio shows what is stored for the others)."""
    from evaluation.analysis.incremental import analyse_or_reuse
    from evaluation.portfolio.build import write_portfolio
    from evaluation.progress import progress_bar

    paths = sorted(ws.designs.glob("*.yaml"))
    if only:
        unknown = sorted(set(only) - {path.stem for path in paths})
        if unknown:
            raise EvaluationError(f"--only {', '.join(unknown)}: no such design in {ws.designs}; "
                                  f"choose from {', '.join(path.stem for path in paths)}")
        paths = [path for path in paths if path.stem in set(only)]
    load_demo_data(ws, seed=seed, echo=echo)
    verify_registry(ws, echo=echo)
    results, statuses = {}, []
    with progress_bar("analysing the Field Lab interventions", len(paths)) as advance:
        for path in paths:
            outcome = analyse_or_reuse(path, workspace=ws, force=force)
            results[path.stem] = outcome.result
            statuses.append(outcome.status_line())
            advance()
    for line in statuses:
        echo(line)
    write_portfolio(ws)
    if render:
        from evaluation.report.render import render_site

        site = render_site(ws, lang=lang, echo=echo, reuse=not force)
        echo(f"portfolio page: {site}")
    for result in results.values():
        echo(result.one_line())
    return results


def register_demo_designs(ws: Workspace, *, by: str, seed: int = defaults.DEMO_SEED,
                          sims: int = defaults.DEMO_REGISTER_SIMS,
                          echo: Callable[[str], None] = print) -> list[dict]:
    """Register every demo design as it would have been: diagnosed and registered on the data as
    they stood the day before its start, with the diagnosis attached.

    Writes the committed designs/registry.jsonl and designs/<id>.diagnosis.json (`make
    register-demo`). The designs are registered in the order of their starts, each against a store
    holding only the incidents up to the day before its first start, so none is retrospective; as
    the registrations are made today, they are labelled `before_outcome_data` (a replay), not
    prospective. An existing ledger is replaced by a `restart` entry naming its head, so that
    `registry verify` can tell the fresh start from a rewrite.
    """
    import datetime as dt

    from evaluation.analysis.prepare import source_panel
    from evaluation.demo.data import write_demo_data
    from evaluation.design.model import load_design
    from evaluation.diagnose import diagnose, write_diagnosis
    from evaluation.registry import read_head, register, restart_ledger

    designs = sorted((load_design(p) for p in ws.designs.glob("*.yaml")),
                     key=lambda d: (d.treatment.first_start, d.id))
    if read_head(ws.registry).length:
        restart_ledger(ws, by=by, reason="demo designs registered again (make register-demo): the "
                                         "design schema or its defaults changed every design hash")
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for design in designs:
            until = design.treatment.first_start - dt.timedelta(days=1)
            folder = Path(tmp) / design.id
            paths = write_demo_data(folder, seed=seed, until=until)
            db = folder / "store.duckdb"
            import_demo_files(paths, db)
            diagnosis = diagnose(design, workspace=ws, db=db, sims=sims)
            write_diagnosis(diagnosis, ws)
            entry = register(design, workspace=ws, by=by, source=source_panel(design, ws, db=db),
                             diagnosis_sha256=diagnosis["sha256"])
            echo(f"{design.id}: registered on data to {entry['data_cutoff']} ({entry['timing']}), "
                 f"diagnosis {diagnosis['sha256'][:12]}: minimum detectable reduction "
                 f"{diagnosis['minimum_detectable_text']}")
            entries.append(entry)
    return entries
