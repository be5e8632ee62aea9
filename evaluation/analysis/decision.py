"""The verdict: continue, adapt, stop or inconclusive, from the registered decision rule.

`decide()` is called once per analysis by the orchestrator; its dict is stored in
result.json["decision"] and reports only show it. The rule, stated once (methods.qmd quotes it):

  P_any = P(RR < 1)                        (some reduction)
  P_min = P(RR <= 1 - min_reduction)       (at least the registered minimum reduction)

  continue      P_min >= continue_probability
  stop          P_any <  stop_probability
  adapt         P_any >= continue_probability and P_min < 0.5
                (some reduction, as sure as a continue needs to be, but probably less than the
                minimum; a merely likely reduction in a wide interval is "the data cannot tell")
  inconclusive  everything else (e.g. P_min between 0.5 and continue_probability)

The probabilities come from the posterior when a Bayesian fit exists and is reliable. Without a
Bayesian fit they come from the frequentist interval read as a confidence distribution: normal on the
log-RR scale, centred at the estimate, each side scaled by its own half-width of the reported
(1 - alpha) interval, so that e.g. "upper bound < 1 - min_reduction" <=> P_min > 1 - alpha/2.

Blocking problems make the verdict inconclusive whatever the numbers: an exploratory analysis, a
design that does not match its registration, a failed blocking check (pre-trends), or an
unreliable Bayesian fit. The verdict is never a silent "continue".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy.stats import norm

from evaluation import defaults
from evaluation.report import formatting as fmt

VERDICTS = ("continue", "adapt", "stop", "inconclusive")
LABELS = {
    "nl": {"continue": "doorzetten", "adapt": "aanpassen", "stop": "stoppen",
           "inconclusive": "nog niet te zeggen"},
    "en": {"continue": "continue", "adapt": "adapt", "stop": "stop",
           "inconclusive": "inconclusive"},
}
BAYES_CHECK = "bayesian_reliability"  # the orchestrator's check that repeats `reliable`


@dataclass(frozen=True)
class Rule:
    min_reduction: float
    continue_probability: float
    stop_probability: float


@dataclass(frozen=True)
class Basis:
    """Where the probabilities come from and the numbers the reasons quote."""

    source: str  # "bayesian" | "frequentist"
    scale: str
    estimate: float
    low: float
    high: float
    p_any: float
    p_min: float | None
    p_value: float | None = None
    pct_change: float | None = None


def decide(*, primary: dict[str, Any], bayesian: dict[str, Any] | None,
           checks: list[Any], registration: str | dict[str, Any],
           rule: Any) -> dict[str, Any]:
    """The verdict dict stored in result.json["decision"] (see the module docstring for the rule)."""
    rule_obj = _rule(rule)
    reg = _registration(registration)
    check_dicts = [_check(c) for c in checks]
    evidence = evidence_level(design=reg["design"], controlled=reg["controlled"],
                              primary=primary, checks=check_dicts)
    blocking = _blocking(reg, check_dicts, bayesian)
    basis = None
    if blocking:
        verdict, reasons = "inconclusive", _join_blocking(blocking)
    else:
        basis = _basis(primary, bayesian, rule_obj)
        if basis is None:
            verdict = "inconclusive"
            reasons = {"nl": ["Er is geen bruikbare schatting van het effect (schatting of interval "
                              "ontbreekt), dus de data kunnen nog niets zeggen."],
                       "en": ["There is no usable effect estimate (estimate or interval missing), "
                              "so the data cannot tell yet."]}
        else:
            verdict = classify(p_any=basis.p_any, p_min=basis.p_min, rule=rule_obj)
            reasons = _reasons(basis, rule_obj, verdict)
    return {
        "verdict": verdict,
        "label_nl": LABELS["nl"][verdict],
        "label_en": LABELS["en"][verdict],
        "reasons": reasons["nl"],
        "reasons_en": reasons["en"],
        "blocking": [b["code"] for b in blocking],
        "basis": None if basis is None else {
            "source": basis.source, "scale": basis.scale, "estimate": basis.estimate,
            "low": basis.low, "high": basis.high, "p_any_reduction": basis.p_any,
            "p_min_reduction": basis.p_min},
        "rule": {"min_reduction": rule_obj.min_reduction,
                 "continue_probability": rule_obj.continue_probability,
                 "stop_probability": rule_obj.stop_probability},
        "evidence_level": evidence,
    }


def classify(*, p_any: float, p_min: float | None, rule: Rule) -> str:
    """Apply the registered rule to the two probabilities (order matters: continue first)."""
    if p_min is not None and p_min >= rule.continue_probability:
        return "continue"
    if p_any < rule.stop_probability:
        return "stop"
    if p_min is not None and p_any >= rule.continue_probability and p_min < 0.5:
        return "adapt"
    return "inconclusive"


# --- probabilities ---------------------------------------------------------------------------
def _basis(primary: dict[str, Any], bayesian: dict[str, Any] | None, rule: Rule) -> Basis | None:
    if bayesian is not None:
        # an unreliable fit was caught as blocking before we get here
        p_any, p_min = bayesian.get("p_any_reduction"), bayesian.get("p_min_reduction")
        median = bayesian.get("rr_median")
        if _finite(p_any, p_min, median):
            return Basis(source="bayesian", scale="rate_ratio", estimate=float(median),
                         low=_float(bayesian.get("hdi_low")), high=_float(bayesian.get("hdi_high")),
                         p_any=float(p_any), p_min=float(p_min),
                         pct_change=100 * (float(median) - 1))
    return frequentist_probabilities(primary, min_reduction=rule.min_reduction)


def frequentist_probabilities(primary: dict[str, Any], *, min_reduction: float,
                              alpha: float = defaults.ALPHA) -> Basis | None:
    """P_any and P_min from the reported interval read as a confidence distribution."""
    est, lo, hi = (primary.get(k) for k in ("estimate", "ci_low", "ci_high"))
    scale = primary.get("scale", "rate_ratio")
    se = primary.get("std_error")
    if not _finite(est):
        return None
    z = norm.ppf(1 - alpha / 2)
    if scale == "rate_ratio":
        if est <= 0:
            return None
        centre = math.log(est)
        sides = _half_widths(centre, lo, hi, z, se, transform=math.log)
        threshold_any, threshold_min = 0.0, math.log(1 - min_reduction)
    else:
        centre = float(est)
        sides = _half_widths(centre, lo, hi, z, se, transform=float)
        pct = primary.get("pct_change")
        # the counterfactual mean is estimate / (pct_change / 100): min_reduction is relative to it
        baseline = centre / (pct / 100) if _finite(pct) and pct != 0 else None
        threshold_any = 0.0
        threshold_min = -min_reduction * abs(baseline) if baseline is not None else None
    if sides is None:
        return None
    p_any = _prob_below(threshold_any, centre, sides)
    p_min = None if threshold_min is None else _prob_below(threshold_min, centre, sides)
    return Basis(source="frequentist", scale=scale, estimate=float(est), low=_float(lo),
                 high=_float(hi), p_any=p_any, p_min=p_min, p_value=primary.get("p_value"),
                 pct_change=primary.get("pct_change"))


def _half_widths(centre, lo, hi, z, se, *, transform) -> tuple[float, float] | None:
    # (lower-side sd, upper-side sd); from the interval when it is there, else from std_error
    try:
        if _finite(lo, hi) and (transform is float or (lo > 0 and hi > 0)):
            low_sd = (centre - transform(lo)) / z
            high_sd = (transform(hi) - centre) / z
            if low_sd > 0 and high_sd > 0:
                return low_sd, high_sd
    except ValueError:
        pass
    if _finite(se) and se > 0:
        return float(se), float(se)
    return None


def _prob_below(threshold: float, centre: float, sides: tuple[float, float]) -> float:
    sd = sides[1] if threshold >= centre else sides[0]
    return float(norm.cdf((threshold - centre) / sd))


# --- blocking problems -----------------------------------------------------------------------
def _blocking(reg: dict[str, Any], checks: list[dict[str, Any]],
              bayesian: dict[str, Any] | None) -> list[dict[str, str]]:
    found = []
    if reg["status"] == "exploratory":
        found.append({"code": "exploratory",
                      "nl": "De analyse is verkennend (niet volgens een geldige registratie), dus "
                            "er volgt geen oordeel uit.",
                      "en": "The analysis is exploratory (not run under a valid registration), so "
                            "it gives no verdict."})
    if reg["matches"] is False:
        found.append({"code": "registration_mismatch",
                      "nl": "Het ontwerp wijkt af van de registratie; registreer de wijziging als "
                            "amendement voordat er een oordeel kan volgen.",
                      "en": "The design differs from its registration; record the change as an "
                            "amendment before a verdict can follow."})
    unreliable = bayesian is not None and not bayesian.get("reliable", False)
    if unreliable:
        why = bayesian.get("reliability_reason") or "diagnostics failed"
        found.append({"code": "bayesian_unreliable",
                      "nl": f"Het Bayesiaanse model is niet betrouwbaar geschat ({why}).",
                      "en": f"The Bayesian model did not fit reliably ({why})."})
    for check in checks:
        if check["blocking"] and check["status"] == "fail":
            if unreliable and check["name"] == BAYES_CHECK:
                continue  # already said above
            detail = check["detail"].rstrip(".")
            found.append({"code": f"check:{check['name']}",
                          "nl": f"De controle '{check['name']}' is niet geslaagd: {detail}.",
                          "en": f"The check '{check['name']}' failed: {detail}."})
    return found


def _join_blocking(blocking: list[dict[str, str]]) -> dict[str, list[str]]:
    reasons = {lang: [blocking[0][lang]] for lang in ("nl", "en")}
    if len(blocking) == 2:
        for lang in ("nl", "en"):
            reasons[lang].append(blocking[1][lang])
    elif len(blocking) > 2:
        rest = ", ".join(b["code"] for b in blocking[1:])
        reasons["nl"].append(f"Daarnaast blokkeren: {rest}.")
        reasons["en"].append(f"Also blocking: {rest}.")
    return reasons


# --- reasons ---------------------------------------------------------------------------------
def _reasons(basis: Basis, rule: Rule, verdict: str) -> dict[str, list[str]]:
    out = {}
    for lang in ("nl", "en"):
        n = {  # numbers in the page language
            "est": fmt.number(basis.estimate, lang=lang),
            "ci": fmt.interval(basis.low, basis.high, lang=lang),
            "pct": fmt.percent(basis.pct_change, lang=lang),
            "p": fmt.p_value(basis.p_value, lang=lang),
            "p_any": fmt.probability(basis.p_any, lang=lang),
            "p_min": fmt.probability(basis.p_min, lang=lang),
            "min": fmt.percent(100 * rule.min_reduction, lang=lang, digits=0, signed=False),
            "cont": fmt.probability(rule.continue_probability, lang=lang),
            "stop": fmt.probability(rule.stop_probability, lang=lang),
        }
        out[lang] = [_first_sentence(basis, lang, n), _rule_sentence(verdict, lang, n)]
    return out


def _first_sentence(basis: Basis, lang: str, n: dict[str, str]) -> str:
    what = "rate ratio" if basis.scale == "rate_ratio" else ("verschil" if lang == "nl" else "difference")
    if basis.source == "bayesian":
        if lang == "nl":
            return (f"De Bayesiaanse schatting van de rate ratio is {n['est']} (95%-HDI {n['ci']}), "
                    f"een verandering van {n['pct']}.")
        return (f"The Bayesian estimate of the rate ratio is {n['est']} (95% HDI {n['ci']}), "
                f"a change of {n['pct']}.")
    if lang == "nl":
        return (f"De geschatte {what} is {n['est']} (95%-BI {n['ci']}; p = {n['p']}), "
                f"een verandering van {n['pct']}.")
    return (f"The estimated {what} is {n['est']} (95% CI {n['ci']}; p = {n['p']}), "
            f"a change of {n['pct']}.")


def _rule_sentence(verdict: str, lang: str, n: dict[str, str]) -> str:
    if lang == "nl":
        head = (f"De kans op een daling van minstens {n['min']} is {n['p_min']} en op enige daling "
                f"{n['p_any']}")
        tail = {
            "continue": f"; dat haalt de drempel voor doorzetten ({n['cont']}).",
            "stop": f"; dat is onder de drempel voor stoppen ({n['stop']}).",
            "adapt": f"; er is waarschijnlijk een daling, maar waarschijnlijk kleiner dan {n['min']}.",
            "inconclusive": f"; dat is te onzeker voor doorzetten ({n['cont']} nodig) of stoppen.",
        }[verdict]
        return head + tail
    head = (f"The probability of a reduction of at least {n['min']} is {n['p_min']}, and of any "
            f"reduction {n['p_any']}")
    tail = {
        "continue": f"; this meets the threshold to continue ({n['cont']}).",
        "stop": f"; this is below the threshold to stop ({n['stop']}).",
        "adapt": f"; there is probably a reduction, but probably smaller than {n['min']}.",
        "inconclusive": f"; too uncertain to continue ({n['cont']} needed) or to stop.",
    }[verdict]
    return head + tail


# --- evidence level --------------------------------------------------------------------------
def evidence_level(*, design: str | None, controlled: bool | None, primary: dict[str, Any],
                   checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Maryland Scientific Methods Scale of the design as run, with a one-line explanation.

    ITS without a comparison series: 2 (before-after with a trend, no control). DiD or controlled
    ITS: 3 when a pre-trend check passed (the comparison group is shown to move in parallel; for a
    controlled ITS without one, its pre-period placebo-start check), else 2. Level 4-5 need many units with rich controls or randomisation, which these designs lack.
    """
    if controlled is None:
        controlled = bool(primary.get("n_control"))
    if design == "its" and not controlled:
        return {"smss": 2, "explanation": "Tijdreeks vóór en na zonder vergelijkingsreeks "
                "(trend en seizoen gecorrigeerd, geen controlegroep).",
                "explanation_en": "Time series before and after without a comparison series "
                "(trend and season adjusted, no control group)."}
    pre = [c for c in checks if _is_pretrend(c["name"])]
    if not pre and design == "its":
        # a controlled ITS has no event study; its pre-period placebo starts test the same thing
        pre = [c for c in checks if "placebo" in c["name"].lower()]
    kind_nl = "Verschil-in-verschillen" if design == "did" else "Gecontroleerde tijdreeks"
    kind_en = "Difference-in-differences" if design == "did" else "Controlled time series"
    if any(c["status"] == "pass" for c in pre) and not any(c["status"] == "fail" for c in pre):
        return {"smss": 3, "explanation": f"{kind_nl} met een vergelijkingsgroep die vóór de start "
                "parallel liep (pre-trendtoets geslaagd).",
                "explanation_en": f"{kind_en} with a comparison group that moved in parallel "
                "before the start (pre-trend check passed)."}
    status = "mislukt" if any(c["status"] == "fail" for c in pre) else "niet uitgevoerd"
    status_en = "failed" if status == "mislukt" else "not run"
    return {"smss": 2, "explanation": f"{kind_nl} met vergelijkingsgroep, maar de pre-trendtoets is "
            f"{status}, dus vergelijkbaarheid is niet aangetoond.",
            "explanation_en": f"{kind_en} with a comparison group, but the pre-trend check "
            f"{status_en}, so comparability is not shown."}


def _is_pretrend(name: str) -> bool:
    name = name.lower()
    return ("trend" in name and "pre" in name) or "parallel" in name or "leads" in name


# --- input normalisation ---------------------------------------------------------------------
def _rule(rule: Any) -> Rule:
    data = rule.model_dump() if hasattr(rule, "model_dump") else dict(rule or {})
    return Rule(min_reduction=float(data.get("min_reduction", defaults.MIN_REDUCTION)),
                continue_probability=float(data.get("continue_probability",
                                                    defaults.CONTINUE_PROBABILITY)),
                stop_probability=float(data.get("stop_probability", defaults.STOP_PROBABILITY)))


def _registration(registration: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(registration, str):
        return {"status": registration, "matches": None, "design": None, "controlled": None}
    reg = dict(registration)
    return {"status": reg.get("status"), "matches": reg.get("matches"),
            "design": reg.get("design"), "controlled": reg.get("controlled")}


def _check(check: Any) -> dict[str, Any]:
    data = check.to_dict() if hasattr(check, "to_dict") else dict(check)
    return {"name": str(data.get("name", "")), "status": data.get("status", "skipped"),
            "detail": str(data.get("detail", "")), "blocking": bool(data.get("blocking", False))}


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _float(value: Any) -> float:
    return float(value) if _finite(value) else math.nan
