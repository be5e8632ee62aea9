"""The portfolio page (reports/index.qmd): national progress, forest plot, verdicts, Holm note.

Reads analyses/portfolio.json (written by `evaluation analyse --all`). Without it the verdict table
is read from the single result.json files and the page says national figures are missing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from evaluation.design.texts import local_text
from evaluation.portfolio import build as portfolio_mod
from evaluation.portfolio.build import PORTFOLIO_FILE
from evaluation.report import figures, verdict_text
from evaluation.report.markup import (
    Markup,
    Shared,
    callout,
    figure,
    guarded,
    heading,
    paragraph,
    raw_html,
    read_json,
    table,
    verdict_badge,
)
from evaluation.report.registration_section import ledger_marker, ledger_text


@dataclass(frozen=True)
class PortfolioPage:
    s: Shared
    data: dict[str, Any]
    from_file: bool

    @classmethod
    def load(cls, shared: Shared) -> PortfolioPage:
        path = shared.workspace.analyses / PORTFOLIO_FILE
        if path.exists():
            return cls(shared, read_json(path), True)
        # No portfolio yet: read the verdicts (pure reading, no store) so the page still helps.
        rows = portfolio_mod.verdict_rows(portfolio_mod.read_results(shared.workspace))
        portfolio_mod.add_holm(rows)
        return cls(shared, {"interventions": rows, "multiple_testing": None, "national": None,
                            "programme_risk": portfolio_mod.programme_risk(rows)}, False)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.data.get("interventions") or []

    def header(self) -> str:
        out = heading(self.s.t("portfolio_title"), 1) + paragraph(self.s.t("portfolio_intro"))
        if not self.from_file:
            out += callout("note", self.s.t("no_portfolio"), css="banner-missing")
        return out

    def national(self) -> str:
        s, nat = self.s, self.data.get("national")
        out = heading(s.t("national_title"), 2, anchor="national")
        if not nat or not nat.get("available"):
            reason = (nat or {}).get("reason", "analyses/portfolio.json")
            return out + paragraph(f"{s.t('national_missing')} ({reason}).")
        obs, proj = nat["observed"], nat["projection"]
        year, base = nat["target_year"], nat["baseline_year"]
        n = lambda v: s.num(v, 0)  # noqa: E731 - counts shown as whole numbers
        complete = bool(nat.get("year_complete"))  # a complete year is no longer "so far"
        so_far = "" if complete else (" tot nu toe" if s.lang == "nl" else " so far")
        if s.lang == "nl":
            rows = [
                [f"Aanslagen {year} t/m {s.date(nat['cutoff'])}", n(obs["count"])],
                [f"Zelfde periode {base} (t/m {s.date(obs['baseline_span'][1])})",
                 n(obs["baseline_count"])],
                [f"Verandering {year}{so_far} tegen {base} (verhouding, 95%-BI)",
                 f"{s.pct(obs['pct_change'])} ({s.num(obs['ratio'])}; "
                 f"{s.ci(obs['ci_low'], obs['ci_high'])})"],
                [f"Totaal {year} (compleet)", n(proj["total"])] if nat.get("year_complete") else
                [f"Verwachting heel {year} (95%-interval)",
                 f"{n(proj['total'])} ({n(proj['low'])} tot {n(proj['high'])})"],
                [f"Totaal {base}", n(nat["baseline_total"])],
                [f"Doel {year} ({s.pct(-100 * nat['target_reduction'])})",
                 f"hoogstens {n(nat['target_total'])}"],
                [f"Doel {year} gehaald", "ja" if proj["p_target_met"] == 1 else "nee"]
                if nat.get("year_complete") else
                [f"Kans dat het doel voor {year} gehaald wordt", s.prob(proj["p_target_met"])],
            ]
            head = ["", "Aantal"]
            method = s.t("national_method_complete" if complete else "national_method").format(
                base=base, year=year)
        else:
            rows = [
                [f"Attacks {year} up to {s.date(nat['cutoff'])}", n(obs["count"])],
                [f"Same span {base} (up to {s.date(obs['baseline_span'][1])})",
                 n(obs["baseline_count"])],
                [f"Change {year}{so_far} against {base} (ratio, 95% CI)",
                 f"{s.pct(obs['pct_change'])} ({s.num(obs['ratio'])}; "
                 f"{s.ci(obs['ci_low'], obs['ci_high'])})"],
                [f"Total {year} (complete)", n(proj["total"])] if nat.get("year_complete") else
                [f"Projection for all of {year} (95% interval)",
                 f"{n(proj['total'])} ({n(proj['low'])} to {n(proj['high'])})"],
                [f"Total {base}", n(nat["baseline_total"])],
                [f"Target {year} ({s.pct(-100 * nat['target_reduction'])})",
                 f"at most {n(nat['target_total'])}"],
                [f"{year} target met", "yes" if proj["p_target_met"] == 1 else "no"]
                if nat.get("year_complete") else
                [f"Probability the {year} target is met", s.prob(proj["p_target_met"])],
            ]
            head = ["", "Count"]
            method = s.t("national_method_complete" if complete else "national_method").format(
                base=base, year=year)
        return out + table(head, rows, table_id="national-table") + paragraph(method)

    def forest(self) -> str:
        out = heading(self.s.t("forest_title"), 2, anchor="forest")
        rr_rows = [r for r in self.rows if r.get("scale") == "rate_ratio"
                   and r.get("estimate") is not None]
        if not rr_rows:
            return out + paragraph(self.s.t("forest_none"))
        return out + guarded("forest_plot", lambda: figure(
            figures.forest_plot(rr_rows, lang=self.s.lang), caption=self.s.t("forest_caption"),
            figure_id="forest-plot"), lang=self.s.lang)

    def verdicts(self) -> str:
        s = self.s
        out = heading(s.t("table_title"), 2, anchor="verdicts")
        if not self.rows:
            return out + paragraph(s.t("no_analyses"))
        levels = {verdict_text.level_percent(r.get("interval_level"), s.lang) for r in self.rows}
        level = levels.pop() if len(levels) == 1 else ""
        head = [s.t(k) for k in ("col_intervention", "col_design", "col_estimate")] + \
            [s.t("col_interval").format(level=level).strip()] + \
            [s.t(k) for k in ("col_change", "col_p", "col_p_holm", "col_verdict", "col_smss",
                              "col_evidence_kind")]
        body = []
        for r in self.rows:
            link = Markup(f'<a href="interventions/{html.escape(r["id"])}.html">'
                          f'{html.escape(local_text(r.get("title"), s.lang) or r["id"])}</a>')
            label = verdict_text.label(r.get("verdict"), s.lang)
            interval = s.ci(r.get("ci_low"), r.get("ci_high"))
            if not level:  # levels differ between lines: each interval says its own
                interval += f" ({verdict_text.level_percent(r.get('interval_level'), s.lang)})"
            body.append([link, s.t(f"design_{r['design']}") if r.get("design") in ("did", "its")
                         else str(r.get("design")),
                         s.num(r.get("estimate")), interval,
                         s.pct(r.get("pct_change")), s.p(r.get("p_value")), s.p(r.get("p_holm")),
                         verdict_badge(r.get("verdict"), label),
                         "–" if r.get("smss") is None else str(r["smss"]),
                         s.t(f"evidence_kind_{r.get('evidence_kind') or 'unknown'}")])
        return out + table(head, body, table_id="verdict-table", css="verdict-table")

    def risk(self) -> str:
        """The programme's risk in words: with no intervention working, the chance that at least
        one is continued (from the designs' diagnosed operating characteristics)."""
        s, risk = self.s, self.data.get("programme_risk") or {}
        out = heading(s.t("risk_title"), 2, anchor="programme-risk")
        n, diagnosed = risk.get("n") or 0, risk.get("n_diagnosed") or 0
        if not diagnosed:
            return out + paragraph(s.t("risk_none"))
        text = s.t("risk_text").format(n=diagnosed, p=s.prob(risk["p_any_continued"]),
                                       lo=s.prob(risk["min"]), hi=s.prob(risk["max"]))
        if diagnosed < n:
            text += " " + s.t("risk_missing").format(m=n - diagnosed, n=n)
        return out + raw_html(f'<p class="programme-risk" id="programme-risk">{html.escape(text)}</p>')

    def multiple_testing(self) -> str:
        s = self.s
        mt = self.data.get("multiple_testing")
        out = heading(s.t("holm_title"), 2, anchor="multiple-testing")
        if not mt:
            n_tests = sum(r.get("p_holm") is not None for r in self.rows)
            note = (f"Holm-correctie over {n_tests} toetsen." if s.lang == "nl"
                    else f"Holm correction over {n_tests} tests.")
        else:
            note = mt["note_nl"] if s.lang == "nl" else mt["note_en"]
        return out + paragraph(note)

    def footer(self) -> str:
        """The ledger head the newest analysis ran under (`evaluation registry verify` reads it
        back from the rendered page; compare it with the head printed in the papers)."""
        heads = [r.get("ledger") for r in portfolio_mod.read_results(self.s.workspace) if r.get("ledger")]
        latest = max(heads, key=lambda h: h.get("length") or 0, default=None)
        if latest is None:
            return ""
        text = f"{self.s.t('ledger_head')}: {ledger_text(self.s, latest)}"
        return raw_html(f'<footer class="report-footer" id="portfolio-footer"><hr/><p>{html.escape(text)}'
                        f"{ledger_marker(latest)}</p></footer>")
