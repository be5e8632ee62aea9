"""The commented design template written by `evaluation design new ID --design did|its`.

The template is itself a valid design (placeholder unit GM0000 and placeholder dates), so it loads
with `load_design` as written; `evaluation design check` then reports the placeholder unit as
missing from the data until the user fills in the real units and dates. Every optional field is
written out with its default from `evaluation.defaults`, so the user sees every choice made for
them; writing a default explicitly does not change the design hash.
"""

from __future__ import annotations

from evaluation import defaults
from evaluation.design.model import SLUG
from evaluation.errors import DesignError

PLACEHOLDER_UNIT = "GM0000"


def _flow(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]"


def _yaml_bool(value: bool) -> str:
    return "true" if value else "false"


def _controls_block(kind: str) -> str:
    if kind == "did":
        return (
            "# Comparison units: `untreated` = every municipality not treated here or by another\n"
            "# registered design; or a list, e.g. [GM0344, GM0518]. A unit is treated or control, not both.\n"
            "controls: untreated\n"
        )
    return (
        "# An interrupted time series needs no controls. List comparison series (e.g. [GM0344]) for a\n"
        "# controlled ITS; leave this line commented out otherwise.\n"
        "# controls: [GM0344]\n"
    )


def _line(text: str, comment: str = "", *, indent: int = 0) -> str:
    """One YAML line with its comment aligned at column 34."""
    body = " " * indent + text
    return (f"{body:<33} # {comment}" if comment else body) + "\n"


def design_template(design_id: str, *, kind: str) -> str:
    """The YAML text of a new design `design_id` of kind `did` or `its`."""
    if not SLUG.match(design_id):
        raise DesignError(f"ID: `{design_id}` must be a lowercase slug of letters, digits and hyphens, e.g. fl-01-school-visits")
    if kind not in {"did", "its"}:
        raise DesignError(f"--design: `{kind}` is not a design; use did or its")
    if kind == "did":
        kind_specific = (
            _line(f"estimator: {defaults.ESTIMATOR}", "auto | twfe | callaway_santanna | sun_abraham | imputation", indent=2)
            + _line(f"control_group: {defaults.CONTROL_GROUP}", "staggered starts: never_treated | not_yet_treated", indent=2)
        )
    else:
        kind_specific = _line(f"slope_change: {_yaml_bool(defaults.SLOPE_CHANGE)}",
                              "true: also estimate a change in trend after the start", indent=2)
    lead, lag = defaults.EVENT_WINDOW
    return (
        "# Design of an evaluation: frozen by `evaluation register`, changed only by `evaluation amend`.\n"
        f"# Fill in every TODO, then run `evaluation design check designs/{design_id}.yaml`.\n"
        "# Nothing in this file is run as code. Optional fields show their defaults.\n\n"
        + _line(f"id: {design_id}", "must equal the file name")
        + "# title and hypothesis: one text, or one per report language: {nl: ..., en: ...}\n"
        + _line('title: "TODO: short title of the intervention"')
        + _line('owner: "TODO: organisation responsible"')
        + "# One sentence naming the effect, the place and the time, e.g. \"Visits reduce attacks in the\n"
        "# visited municipalities by at least 10% within 100 days.\"\n"
        + _line('hypothesis: "TODO: the expected effect, stated before looking at the outcome"')
        + _line(f"design: {kind}", "did (difference-in-differences) | its (interrupted time series)")
        + "\ndata:\n"
        + _line(f"source: {defaults.DATA_SOURCE}", "store (the incident database) or a panel file path", indent=2)
        + _line(f"frequency: {defaults.FREQUENCY}", "day | week | month | quarter | year", indent=2)
        + _line(f"outcome: {defaults.OUTCOME}", indent=2)
        + _line("# exposure: population", "a rate per exposure (inhabitants); leave out for counts", indent=2)
        + _line(f"target_types: {_flow(defaults.TARGET_TYPES)}", indent=2)
        + _line(f"outcomes: {_flow(defaults.OUTCOMES)}", indent=2)
        + "\ntreatment:\n"
        + _line(f"# TODO: the treated municipality codes (GMxxxx); {PLACEHOLDER_UNIT} is a placeholder.", indent=2)
        + _line(f"units: [{PLACEHOLDER_UNIT}]", indent=2)
        + _line("# TODO: the first day of the intervention (YYYY-MM-DD). Staggered starts: a map,", indent=2)
        + _line("# e.g. start: {GM0599: 2025-04-14, GM0363: 2025-06-02}", indent=2)
        + _line("start: 2025-04-14", indent=2)
        + _line("end: null", "last day, if the intervention has stopped", indent=2)
        + "\n" + _controls_block(kind)
        + f"\n# TODO: the study window: at least {defaults.MIN_PRE_PERIODS} periods before the start "
        f"(better {defaults.WARN_PRE_PERIODS} or more).\n"
        + "window:\n"
        + _line("start: 2024-01-01", indent=2)
        + _line("end: 2025-12-31", indent=2)
        + _line("# exclude: {start: 2025-04-14, end: 2025-04-27}", "transition periods left out", indent=2)
        + "\nanalysis:\n"
        + _line(f"model: {defaults.MODEL}", "poisson | quasi_poisson | negative_binomial | linear", indent=2)
        + kind_specific
        + _line(f"inference: {defaults.INFERENCE}", "auto | model | cluster | randomization | wild_bootstrap | hac | placebo_blocks", indent=2)
        + _line(f"trend: {_yaml_bool(defaults.TREND)}", "a linear trend per unit / series", indent=2)
        + _line(f"seasonality: {defaults.SEASONALITY}", "Fourier pairs for the yearly cycle (0 = none)", indent=2)
        + _line(f"event_window: [{lead}, {lag}]", "periods before / after the start in the event study", indent=2)
        + _line(f"bayesian: {_yaml_bool(defaults.BAYESIAN)}", "also fit the Bayesian model (support, or the decision basis)", indent=2)
        + _line(f"alpha: {defaults.ALPHA}", indent=2)
        + _line(f"seed: {defaults.SEED}", "fixed seed: the same design gives the same numbers", indent=2)
        + "\n# The decision rule, fixed before the results are known.\n"
        + "decision:\n"
        + _line(f"basis: {defaults.DECISION_BASIS}", "primary (the analysis above) | bayesian (needs bayesian: true)", indent=2)
        + _line(f"min_reduction: {defaults.MIN_REDUCTION}", "the smallest reduction worth continuing for", indent=2)
        + _line(f"expected_reduction: {defaults.EXPECTED_REDUCTION}", "the reduction hoped for (diagnosis: error rates there)", indent=2)
        + _line(f"continue_probability: {defaults.CONTINUE_PROBABILITY}", "continue when the confidence in a reduction >= min_reduction is at least this", indent=2)
        + _line(f"stop_probability: {defaults.STOP_PROBABILITY}", "stop when it is below this", indent=2)
    )
