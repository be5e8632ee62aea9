"""CLI commands: report."""

from __future__ import annotations

from pathlib import Path

import click

from evaluation import defaults


def register(cli: click.Group) -> None:
    """Attach this module's commands to the main group."""
    from evaluation.cli.context import pass_ctx

    @cli.command("report")
    @click.option("--lang", type=click.Choice(["nl", "en"]), default=defaults.LANGUAGE,
                  show_default=True, help="Page language (Dutch number notation for nl).")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Output folder (default: <workspace>/_site).")
    @click.option("--engine", type=click.Choice(["auto", "quarto", "fallback"]), default="auto",
                  show_default=True,
                  help="auto: Quarto >= 1.4 when installed, else the built-in fallback renderer.")
    @click.option("--pdf", is_flag=True, default=False,
                  help="Also write the meeting pack <out>/meeting-pack.pdf (portfolio and a page "
                       "per intervention, ledger head printed) with headless Chromium.")
    @click.option("--force", is_flag=True,
                  help="Render again even when the analyses, page sources, language, engine and "
                       "package versions are those the site was rendered from (then it is kept).")
    @pass_ctx
    def report(ctx, lang: str, out: Path | None, engine: str, pdf: bool, force: bool) -> None:
        """Render the portfolio, methods and one page per analysis into a website."""
        from evaluation.report.render import render_reports

        if pdf:  # a missing browser is said before minutes of rendering, not after
            from evaluation.report import ReportError
            from evaluation.report.pdf import CHROMIUM_NAMES, find_chromium

            if find_chromium() is None:
                raise ReportError("--pdf: no Chromium found (looked for "
                                  f"{', '.join(CHROMIUM_NAMES)}); install it (`make browser`) "
                                  "or render without --pdf")
        ws = ctx.workspace()
        result = render_reports(ws, lang=lang, out=out, engine=engine, reuse=not force)
        click.echo(f"{result.note}")
        click.echo(f"{len(result.pages)} pages in {result.out_dir} ({result.seconds:.1f} s); "
                   f"open {result.out_dir / 'index.html'}")
        if pdf:
            from evaluation.report.pdf import meeting_pack

            click.echo(f"meeting pack: {meeting_pack(ws, result.out_dir, lang=lang)}")
