"""The registration section of an intervention page: status, timing, diagnosis, ledger head, and
the deviation log (amendments, attached or replaced diagnoses, deviations from the control pool).

Reads only the result (`result.json`): its `registration_timing`, `ledger` and
`context.registration`.
"""

from __future__ import annotations

import html
from typing import Any

from evaluation.report.markup import Markup, Shared, heading, paragraph, table

TIMINGS = ("prospective", "before_outcome_data", "retrospective")


def registration_section(s: Shared, result: dict[str, Any]) -> str:
    reg = (result.get("context") or {}).get("registration") or {}
    status = result.get("registration")
    design_hash = reg.get("design_sha256") or result.get("design_sha256", "")
    timing = result.get("registration_timing")
    rows = [[s.t("col_registration"), s.status(status)],
            [s.t("timing"), s.t(f"timing_{timing}") if timing in TIMINGS else "–"],
            [s.t("registered_at"), f"{s.date(reg.get('registered_at'))} "
             f"{s.t('registered_by')} {reg.get('registered_by') or '–'}"],
            [s.t("design_hash"), Markup(f"<code>{design_hash}</code>")],
            [s.t("diagnosis_attached"), _hash(reg.get("diagnosis_sha256")) if reg.get("diagnosis_sha256")
             else s.t("no_diagnosis_attached")],
            [s.t("ledger_head"), ledger_text(s, result.get("ledger"))]]
    out = heading(s.t("registration_title"), 2, anchor="registration")
    out += table(["", ""], rows, table_id="registration-table")
    return out + _amendments(s, reg.get("amendments") or []) + _deviations(
        s, {**(reg.get("control_pool") or {}),
            "unit_names": (result.get("context") or {}).get("unit_names") or {}})


def ledger_text(s: Shared, ledger: dict[str, Any] | None) -> str:
    """The ledger head in words, e.g. 'kop 3f2a9c01b7de (9 vermeldingen)'."""
    if not ledger or not ledger.get("head_sha256"):
        return "–"
    return s.t("ledger_head_value").format(head=str(ledger["head_sha256"])[:12], n=ledger.get("length"))


def ledger_marker(ledger: dict[str, Any] | None) -> str:
    """The machine-readable head in a rendered page; `evaluation registry verify` reads it back."""
    if not ledger or not ledger.get("head_sha256"):
        return ""
    return (f'<span class="ledger-head" data-ledger-head="{html.escape(str(ledger["head_sha256"]))}" '
            f'data-ledger-length="{int(ledger.get("length") or 0)}"></span>')


def _amendments(s: Shared, amendments: list[dict[str, Any]]) -> str:
    out = heading(s.t("amendments"), 3)
    if not amendments:
        return out + paragraph(s.t("no_amendments"))
    for i, amendment in enumerate(amendments, start=1):
        out += paragraph(f"{s.date(amendment.get('date'))} ({amendment.get('by') or '–'}): "
                         f"{s.t('reason')}: {amendment.get('reason') or '–'}")
        diff = [[d.get("field"), _plain(d.get("old")), _plain(d.get("new"))]
                for d in amendment.get("diff") or []]
        before, after = amendment.get("previous_diagnosis_sha256"), amendment.get("diagnosis_sha256")
        if before != after:
            diff.append([s.t("diagnosis_field"), _short(before, s), _short(after, s)])
        out += table([s.t("col_field"), s.t("col_old"), s.t("col_new")], diff, table_id=f"amendment-{i}")
    return out


def _deviations(s: Shared, pool: dict[str, Any]) -> str:
    out = heading(s.t("deviations_title"), 3)
    deviations = pool.get("deviations") or []
    if not deviations:
        return out + paragraph(s.t("no_deviations"))
    names = pool.get("unit_names") or {}  # set by registration_section() from the result's context
    rows = [[names.get(d.get("unit")) or d.get("unit"), d.get("treated_by"), s.date(d.get("timestamp"))]
            for d in deviations]
    out += paragraph(s.t("deviations_intro"))
    return out + table([s.t("col_unit"), s.t("col_treated_by"), s.t("registered_at")], rows,
                       table_id="deviations-table")


def _hash(value: str) -> Markup:
    return Markup(f"<code>{html.escape(value)}</code>")


def _short(value: Any, s: Shared) -> str:
    return str(value)[:12] if value else s.t("none")


def _plain(value: Any) -> str:
    return "–" if value is None else str(value)
