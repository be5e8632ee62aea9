"""The `evaluation` command: one group, subcommands registered from the cli/*_cmds modules.

Errors are one line on stderr (exit 1 for user or data errors, 2 for internal errors); the
traceback is printed only with --debug.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import click

from evaluation.cli import (
    analyse_cmds,
    data_cmds,
    demo_cmds,
    design_cmds,
    diagnose_cmds,
    report_cmds,
    workspace_cmds,
)
from evaluation.cli.context import CliContext
from evaluation.errors import EvaluationError
from evaluation.estimators.fit_warnings import warning_log


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace folder (default: the nearest folder at or above the current one with designs/ and data/).")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.version_option(package_name="evaluation")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """Pre-registered evaluation of interventions against explosive attacks.

    Register a design, import incident data, analyse, and report to the steering committee.
    """
    ctx.obj = CliContext(workspace_arg=workspace, debug=debug)


def _register_commands() -> None:
    for module in (workspace_cmds, data_cmds, design_cmds, analyse_cmds, report_cmds, diagnose_cmds, demo_cmds):
        module.register(cli)


_register_commands()


def _quiet_libraries(debug: bool) -> None:
    """Keep library chatter (kernel start-up, sampler set-up) off the user's terminal."""
    level = logging.DEBUG if debug else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for name in ("traitlets", "arviz", "arviz.preview", "pymc", "pytensor", "nutpie", "distributed"):
        logging.getLogger(name).setLevel(level if debug else logging.ERROR)


def _run_recorded(args: list[str], *, debug: bool) -> object:
    """Run the command with the fitting libraries' warnings recorded, not printed: an analysis
    puts its own into the result's `fit_warnings` check; the rest are counted in one line on
    stderr (all shown with --debug)."""
    if debug:
        return cli.main(args=args, prog_name="evaluation", standalone_mode=False)
    with warning_log() as log:
        code = cli.main(args=args, prog_name="evaluation", standalone_mode=False)
    counts = log.counts()
    if counts:
        listed = ", ".join(f"{n} {name}" for name, n in counts.items())
        click.echo(f"note: the fits raised {listed} (run with --debug to see them)", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps errors to one-line messages and exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _quiet_libraries(debug)
    try:
        code = _run_recorded(args, debug=debug)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 1
    except EvaluationError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 2
        if debug:
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        return 2
    return code if isinstance(code, int) else 0
