"""One intervention page (reports/_intervention.qmd): what, registration, data, figures, effects,
checks, verdict and footer — all read from analyses/<id>/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.analysis.result import (
    DIAGNOSIS_FILE,
    ESTIMATES_FILE,
    EVENT_STUDY_FILE,
    POSTERIOR_FILE,
    RESULT_FILE,
    SERIES_FILE,
)
from evaluation.design.texts import local_text
from evaluation.report import ReportError, figures, verdict_text
from evaluation.report import formatting as fmt
from evaluation.report.check_words import check_name, check_sentence
from evaluation.report.diagnosis_section import diagnosis_table
from evaluation.report.markup import (
    Markup,
    Shared,
    callout,
    figure,
    guarded,
    heading,
    paragraph,
    raw_html,
    read_csv,
    read_json,
    table,
    verdict_badge,
)
from evaluation.report.note_words import note_text
from evaluation.report.phase_words import phase_sentence
from evaluation.report.registration_section import ledger_marker, ledger_text, registration_section
from evaluation.report.term_words import (
    inference_words,
    model_words,
    prior_words,
    scale_label,
    term_label,
)
from evaluation.report.verdict_box import verdict_box

# Names under which the rate ratio (or its log) may be stored in posterior.nc, in order of preference.
RR_VARIABLES = ("rr", "rate_ratio", "RR")
LOG_RR_VARIABLES = ("log_rr", "log_rate_ratio", "effect", "tau", "beta_d", "delta")


@dataclass(frozen=True)
class InterventionPage:
    s: Shared
    folder: Path
    result: dict[str, Any]

    @classmethod
    def load(cls, shared: Shared, analysis_id: str) -> InterventionPage:
        folder = shared.workspace.analysis_dir(analysis_id)
        if not (folder / RESULT_FILE).exists():
            raise ReportError(f"{folder / RESULT_FILE}: not found; run `evaluation analyse "
                              f"{analysis_id}` before `evaluation report`")
        return cls(shared, folder, read_json(folder / RESULT_FILE))

    # --- helpers -------------------------------------------------------------------------------
    @property
    def context(self) -> dict[str, Any]:
        return self.result.get("context") or {}

    @property
    def level(self) -> str:
        """The primary analysis' interval level from its alpha ('90%'), never a fixed 95%."""
        alpha = (self.result.get("primary") or {}).get("alpha")
        return verdict_text.level_percent(None if alpha is None else 1 - float(alpha), self.s.lang)

    @property
    def min_reduction(self) -> float:
        rule = self.context.get("decision_rule") or {}
        return float(rule.get("min_reduction", 0.10))

    def _units(self) -> list[tuple[str, str]]:
        names = self.context.get("unit_names") or {}  # from the municipality reference
        out = []
        for unit in self.context.get("units") or []:
            if isinstance(unit, dict):
                out.append((str(unit.get("code")), str(unit.get("name") or unit.get("code"))))
            else:
                out.append((str(unit), str(names.get(unit) or unit)))
        return out

    def _data_rows(self) -> list[list[str]]:
        """The data version and the municipal boundaries the counts were mapped onto."""
        s, rows = self.s, []
        version = self.result.get("data_version")
        if version:
            rows.append([s.t("data_version"), f"{version['number']} (sha256 "
                                              f"{str(version['sha256'])[:12]}…)"])
        bounds = self.context.get("boundaries")
        if bounds:
            merged = bounds.get("merged") or {}
            text = (s.t("boundaries_of").format(year=bounds.get("year"))
                    if bounds.get("reference") else s.t("boundaries_none"))
            if merged:
                named = bounds.get("names") or {}
                text += "; " + ", ".join(f"{named.get(old, old)} → {named.get(new, new)}"
                                         for old, new in merged.items())
            rows.append([s.t("boundaries"), text])
        return rows

    def _neighbourhoods(self) -> bool:
        units = self._units()
        return bool(units) and all(fmt.is_neighbourhood(code) for code, _ in units)

    def _start(self) -> Any:
        starts = self.context.get("starts") or {}
        values = list(starts.values()) if isinstance(starts, dict) else list(starts)
        return min(values) if values else None

    # --- sections ------------------------------------------------------------------------------
    def header(self) -> str:
        title = local_text(self.context.get("title"), self.s.lang) or self.result["id"]
        out = heading(title, 1)
        status = self.result.get("registration")
        if status in ("retrospective", "exploratory"):
            out += callout("warning", self.s.t(f"banner_{status}"), css=f"banner-{status}")
        return out

    def about(self) -> str:
        s, c = self.s, self.context
        design = self.result.get("design")
        window = c.get("window") or {}
        starts = c.get("starts") or {}
        names = dict(self._units())  # municipality names from the reference, codes only without one
        units = ", ".join(names.values())
        start_text = "; ".join(f"{names.get(u, u)}: {s.date(d)}" for u, d in starts.items()) \
            if isinstance(starts, dict) else str(starts)
        exclude = window.get("exclude")
        window_text = f"{s.date(window.get('start'))} – {s.date(window.get('end'))}"
        if exclude:
            window_text += (f" ({s.t('excluded')}: {s.date(exclude.get('start'))} – "
                            f"{s.date(exclude.get('end'))})")
        rows = [[s.t("owner"), c.get("owner", "–")],
                [s.t("hypothesis"), local_text(c.get("hypothesis"), s.lang) or "–"],
                [s.t("col_design"), s.t(f"design_{design}") if design in ("did", "its") else design],
                [s.t("units"), units or "–"], [s.t("start_dates"), start_text or "–"],
                [s.t("end_date"), s.date(c.get("end"))], [s.t("window"), window_text],
                *self._data_rows()]
        out = heading(s.t("about_title"), 2, anchor="about") + table(["", ""], rows, table_id="about-table")
        # what preparing the data, the primary fit and the Bayesian model did (codes + values)
        notes = [*(c.get("notes") or []), *((self.result.get("primary") or {}).get("notes") or []),
                 *((self.result.get("bayesian") or {}).get("notes") or [])]
        if notes:
            names = self.context.get("unit_names") or {}
            said = dict.fromkeys(note_text(n, lang=s.lang, names=names) for n in notes)
            out += heading(s.t("notes"), 3) + "".join(f"\n- {n}" for n in said) + "\n"
        return out

    def registration(self) -> str:
        return registration_section(self.s, self.result)

    def data(self) -> str:
        s = self.s
        out = heading(s.t("data_title"), 2, anchor="data")
        series = read_csv(self.folder / SERIES_FILE)
        start = self._start()
        if series is None or series.empty or start is None:
            return out + paragraph(s.t("no_series"))
        post = _post_mask(series, start)
        hide_small = self._neighbourhoods()
        rows = []
        for group in ("treated", "control"):
            in_group = series["group"] == group
            if not in_group.any():
                continue
            before = series.loc[in_group & ~post, "observed"]
            after = series.loc[in_group & post, "observed"]
            hide = hide_small and group == "treated"
            rows.append([s.t(f"group_{group}"),
                         fmt.count(before.sum(), lang=s.lang, neighbourhood=hide),
                         fmt.count(after.sum(), lang=s.lang, neighbourhood=hide),
                         _mean(before, s, hide), _mean(after, s, hide)])
        head = [s.t(k) for k in ("col_group", "col_before", "col_after", "col_per_period_before",
                                 "col_per_period_after")]
        return out + paragraph(s.t("data_intro")) + table(head, rows, table_id="data-table")

    def series_figure(self) -> str:
        return guarded("series_figure", self._series_figure, lang=self.s.lang)

    def _series_figure(self) -> str:
        series = read_csv(self.folder / SERIES_FILE)
        if series is None or series.empty:
            return paragraph(self.s.t("no_series"))
        png = figures.series_plot(series, lang=self.s.lang, start=self._start(), level=self.level)
        caption = self.s.t("series_caption").format(level=self.level)
        return figure(png, caption=caption, figure_id="series-plot")

    def event_study_figure(self) -> str:
        return guarded("event_study_figure", self._event_study_figure, lang=self.s.lang)

    def _event_study_figure(self) -> str:
        event_study = read_csv(self.folder / EVENT_STUDY_FILE)
        if event_study is None or event_study.empty:
            return paragraph(self.s.t("no_event_study"))
        png = figures.event_study_plot(event_study, lang=self.s.lang)
        return figure(png, caption=self.s.t("event_caption"), figure_id="event-study-plot")

    def posterior_figure(self) -> str:
        return guarded("posterior_figure", self._posterior_figure, lang=self.s.lang)

    def _posterior_figure(self) -> str:
        # a linear model's effect is a difference: drawn as it is, never as exp(difference)
        scale = (self.result.get("bayesian") or {}).get("scale", "rate_ratio")
        draws = posterior_rr_draws(self.folder / POSTERIOR_FILE, scale=scale)
        if draws is None:
            return callout("note", self.s.t("no_posterior"), css="posterior-missing")
        png = figures.posterior_plot(draws, min_reduction=self.min_reduction, lang=self.s.lang,
                                     scale=scale)
        return figure(png, caption=self.s.t("posterior_caption"), figure_id="posterior-plot")

    def figures_heading(self) -> str:
        return heading(self.s.t("figures_title"), 2, anchor="figures")

    def effects(self) -> str:
        s = self.s
        out = heading(s.t("effects_title"), 2, anchor="effects")
        estimates = read_csv(self.folder / ESTIMATES_FILE)
        primary = self.result.get("primary") or {}
        count_model = primary.get("scale", "rate_ratio") != "difference"
        rows = []
        if estimates is not None:
            for rec in estimates.to_dict("records"):
                if not count_model and str(rec["term"]).startswith("averted"):
                    continue  # a linear model speaks of differences in rates, not of counts
                rows.append([term_label(rec["term"], s.lang), s.num(rec["estimate"]),
                             s.ci(rec["ci_low"], rec["ci_high"]), s.p(_none(rec["p_value"])),
                             scale_label(rec.get("scale", ""), s.lang)])
        bayes = self.result.get("bayesian")
        if bayes:
            hdi = verdict_text.level_percent(bayes.get("hdi_prob"), s.lang)
            rows.append([s.t("bayes_row").format(level=hdi), s.num(bayes.get("rr_median")),
                         s.ci(bayes.get("hdi_low"), bayes.get("hdi_high")), "–",
                         scale_label("rate_ratio", s.lang)])
            rows.append([s.t("p_any"), s.prob(bayes.get("p_any_reduction")), "", "", ""])
            rows.append([s.t("p_min") + f" ({fmt.percent(100 * self.min_reduction, lang=s.lang, digits=0, signed=False)})",
                         s.prob(bayes.get("p_min_reduction")), "", "", ""])
        averted = (self.result.get("extras") or {}).get("averted")
        if averted and count_model:  # a linear model speaks of differences in rates, not of counts
            rows.append([s.t("averted"), s.num(averted.get("estimate"), 1),
                         s.ci(averted.get("ci_low"), averted.get("ci_high"), 1), "–",
                         scale_label("count", s.lang)])
        head = [s.t("col_term"), s.t("col_estimate"), s.t("col_interval").format(level=self.level),
                s.t("col_p"), s.t("col_scale")]
        lead = paragraph(f"{s.t('col_method')}: {model_words(primary, s.lang)}")
        inference = primary.get("inference") or {}
        if inference:
            lead += paragraph(f"{s.t('inference')}: {inference_words(inference, s.lang)}")
        out = out + lead + table(head, rows, table_id="effects-table") + phase_sentence(s, self.result, level=self.level)
        priors = (bayes or {}).get("priors") or {}
        if priors:
            # the priors are part of the registered analysis: the reader sees what was assumed
            out += paragraph(s.t("priors_title"))
            out += table([s.t("col_term"), s.t("col_detail")],
                         [[term_label(name, s.lang), prior_words(statement, s.lang)]
                          for name, statement in priors.items()], table_id="priors-table")
        return out

    def checks(self) -> str:
        s = self.s
        out = heading(s.t("checks_title"), 2, anchor="checks")
        checks = self.result.get("checks") or []
        if not checks:
            return out + paragraph(s.t("no_checks"))
        rows = []
        for c in checks:
            # the English technical detail only as a tooltip on an English page
            tip = f' title="{_esc(c.get("detail", ""))}"' if s.lang == "en" and c.get("detail") else ""
            rows.append([check_name(c.get("kind"), s.lang),
                         Markup(f'<span class="check check-{_esc(c.get("status"))}"{tip}>'
                                f'{_esc(s.t("check_" + str(c.get("status", "skipped"))))}</span>'),
                         s.t("yes") if c.get("blocking") else s.t("no"), check_sentence(c, s.lang)])
        head = [s.t(k) for k in ("col_check", "col_status", "col_blocking", "col_detail")]
        return out + table(head, rows, table_id="checks-table")

    def verdict(self) -> str:
        s = self.s
        out = heading(s.t("verdict_title"), 2, anchor="verdict")
        decision = self.result.get("decision")
        if not decision:
            return out + callout("warning", s.t("verdict_missing"), css="verdict-missing")
        label = verdict_text.label(decision.get("verdict"), s.lang)
        evidence = decision.get("evidence_level") or {}
        explanation = verdict_text.evidence(decision, s.lang)
        items = "".join(f"<li>{_esc(r)}</li>" for r in verdict_text.reasons(decision, s.lang))
        body = (f'<div class="verdict-reasons" id="verdict-reasons"><p class="verdict-label">'
                f'{verdict_badge(decision.get("verdict"), label)}</p><ul>{items}</ul>'
                f'<p class="evidence">{_esc(s.t("evidence"))}: <strong>{evidence.get("smss", "–")}'
                f'</strong> — {_esc(explanation or "")}</p></div>')
        return out + raw_html(body)

    def diagnosis(self) -> str:
        path = self.folder / DIAGNOSIS_FILE
        if not path.exists():
            return ""
        return heading(self.s.t("diagnosis_title"), 2, anchor="diagnosis") + \
            diagnosis_table(read_json(path), lang=self.s.lang)

    def verdict_box(self) -> str:
        """The box that opens the page: verdict, why, effect, rule, error rates (verdict_box.py)."""
        return verdict_box(self.result, lang=self.s.lang)

    def fold(self, title_key: str) -> str:
        """Open a folded section; `unfold()` closes it (details follow the verdict box)."""
        return raw_html(f'<details class="report-details"><summary>{_esc(self.s.t(title_key))}'
                        "</summary>")

    def unfold(self) -> str:
        return raw_html("</details>")

    def footer(self) -> str:
        s, r = self.s, self.result
        software = ", ".join(f"{k} {v}" for k, v in sorted((r.get("software") or {}).items()))
        body = (f'<footer class="report-footer" id="report-footer"><hr/><p>'
                f'{_esc(s.t("design_hash"))}: <code>{_esc(r.get("design_sha256", ""))}</code><br/>'
                f'{_esc(s.t("footer_data_hash"))}: <code>{_esc(r.get("data_sha256", ""))}</code><br/>'
                f'{_esc(s.t("footer_cutoff"))}: {_esc(s.date(r.get("data_cutoff")))}<br/>'
                + (f'{_esc(s.t("data_version"))}: {_esc(r["data_version"]["number"])} '
                   f'<code>{_esc(r["data_version"]["sha256"])}</code><br/>'
                   if r.get("data_version") else "") +
                f'{_esc(s.t("ledger_head"))}: {_esc(ledger_text(s, r.get("ledger")))}'
                f'{ledger_marker(r.get("ledger"))}<br/>'
                f'{_esc(s.t("footer_software"))}: {_esc(software)}<br/>'
                f'{_esc(s.t("footer_rendered_from"))}: <code>analyses/{_esc(r["id"])}/</code>'
                f"</p></footer>")
        return raw_html(body)


# --- data helpers ----------------------------------------------------------------------------
def posterior_rr_draws(path: Path, *, scale: str = "rate_ratio") -> np.ndarray | None:
    """Rate-ratio draws from posterior.nc (all chains), or None when absent or unrecognised;
    with scale "difference" (linear models) the effect's draws as they are.

    Read with h5py (posterior.nc is netCDF4 = HDF5 with a `posterior` group): importing ArviZ
    would cost seconds per page for what is one array.
    """
    if not path.exists():
        return None
    import h5py

    with h5py.File(path, "r") as handle:
        group = handle.get("posterior")
        if group is None:
            return None
        found = ((("effect", "difference"), np.asarray),) if scale == "difference" else \
            ((RR_VARIABLES, np.asarray), (LOG_RR_VARIABLES, np.exp))
        for names, transform in found:
            for name in names:
                if name in group:
                    return transform(np.asarray(group[name][()], dtype=float).ravel())
    return None


def _post_mask(series: pd.DataFrame, start: Any) -> pd.Series:
    periods = pd.to_datetime(series["period"], errors="coerce")
    if periods.notna().all():
        return periods >= pd.Timestamp(start)
    return pd.to_numeric(series["period"], errors="coerce") >= float(start)


def _mean(values: pd.Series, s: Shared, hide: bool) -> str:
    if values.empty:
        return "–"
    if hide and values.sum() < fmt.defaults.SUPPRESS_BELOW:
        return "–"  # an average would reveal a suppressed total
    return s.num(values.mean(), 2)


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _esc(value: Any) -> str:
    import html

    return html.escape(str(value))
