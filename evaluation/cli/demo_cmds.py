"""CLI commands: demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from evaluation import defaults


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""
    register_demo_data(cli)


def register_demo_data(cli: click.Group) -> None:
    """`evaluation demo-data`: write the synthetic national data set and its ground truth."""

    @cli.command("demo-data")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Folder to write incidents.csv, units.csv, neighbours.csv and ground_truth.json into.")
    @click.option("--seed", type=click.IntRange(min=0), default=defaults.DEMO_SEED, show_default=True,
                  help="Random seed; the same seed gives byte-identical files.")
    @click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Leave out incidents after this date (YYYY-MM-DD), as if registration stopped then.")
    def demo_data(out_dir: Path, seed: int, until: dt.datetime | None) -> None:
        """Write SYNTHETIC demo data: 2023-2025 incidents for 342 municipalities, 8 planted pilots."""
        from evaluation.demo.data import write_demo_data  # numpy/pandas only when the command runs

        paths = write_demo_data(out_dir, seed=seed, until=until.date() if until else None)
        with paths["incidents"].open(encoding="utf-8") as handle:
            rows = sum(1 for _ in handle) - 1
        click.echo(f"wrote SYNTHETIC demo data (seed {seed}) to {out_dir}: {rows} incidents"
                   + (f" up to {until.date().isoformat()}" if until else ""))
        for name, path in paths.items():
            click.echo(f"  {name}: {path}")
