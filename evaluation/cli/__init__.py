"""The `evaluation` command. `app` holds the group and the error-to-exit-code mapping; each area
keeps its commands in its own module (`*_cmds`); `context` is what they share."""

from evaluation.cli.app import cli, main

__all__ = ["cli", "main"]
