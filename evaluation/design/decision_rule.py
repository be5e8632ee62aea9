"""The design's `decision` block and the verdict rule it registers.

The rule is stated once here and used wherever a verdict category is computed: the analysis'
verdict (`evaluation.analysis.decision`), the Bayesian prior-sensitivity check and the design
diagnosis' operating characteristics all call `classify`, so the three can never disagree.

  any = confidence (or posterior probability) that RR < 1             (some reduction)
  min = confidence (or posterior probability) that RR <= 1 - min_reduction

  continue      min >= continue_probability
  stop          any <  stop_probability
  adapt         any >= continue_probability and min < 0.5
                (some reduction, as sure as a continue needs to be, but probably less than the
                minimum; a merely likely reduction in a wide interval is "the data cannot tell")
  inconclusive  everything else (e.g. min between 0.5 and continue_probability)

`basis` says which analysis supplies `any` and `min`: `primary` (the registered frequentist
analysis: confidence from its own inference) or `bayesian` (posterior probabilities; needs
`analysis.bayesian: true`). The other analysis, when run, is shown as support only.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evaluation import defaults
from evaluation.errors import DesignError

VERDICTS = ("continue", "adapt", "stop", "inconclusive")
BASES = ("primary", "bayesian")


class DecisionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    basis: Literal["primary", "bayesian"] = defaults.DECISION_BASIS
    min_reduction: float = Field(default=defaults.MIN_REDUCTION, ge=0, lt=1)
    # the reduction the intervention is hoped to bring: the diagnosis reports how often the rule
    # stops (or fails to continue) an intervention that works this well
    expected_reduction: float = Field(default=defaults.EXPECTED_REDUCTION, gt=0, lt=1)
    continue_probability: float = Field(default=defaults.CONTINUE_PROBABILITY, gt=0, lt=1)
    stop_probability: float = Field(default=defaults.STOP_PROBABILITY, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> DecisionSpec:
        if self.expected_reduction < self.min_reduction:
            raise ValueError(f"expected_reduction: {self.expected_reduction} is below "
                             f"min_reduction {self.min_reduction}; the hoped-for reduction is at "
                             "least the smallest one worth continuing for")
        return self


class RuleLike(Protocol):
    min_reduction: float
    continue_probability: float
    stop_probability: float


def classify(*, p_any: float, p_min: float | None, rule: RuleLike) -> str:
    """Apply the registered rule to its two quantities (order matters: continue first)."""
    if p_min is not None and p_min >= rule.continue_probability:
        return "continue"
    if p_any < rule.stop_probability:
        return "stop"
    if p_min is not None and p_any >= rule.continue_probability and p_min < 0.5:
        return "adapt"
    return "inconclusive"


def basis_problem(*, basis: str, bayesian: bool) -> str | None:
    """Why a decision basis cannot be registered with this analysis block, or None."""
    if basis == "bayesian" and not bayesian:
        return ("decision.basis: `bayesian` needs analysis.bayesian: true (the posterior supplies "
                "the rule's probabilities); set it, or use basis: primary")
    return None


def as_rule_dict(rule: Any) -> dict[str, Any]:
    """A decision block (DecisionSpec, dict or None) as a plain dict with every default."""
    data = rule.model_dump() if hasattr(rule, "model_dump") else dict(rule or {})
    try:
        spec = DecisionSpec(**{k: v for k, v in data.items() if k in DecisionSpec.model_fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DesignError(f"decision{'.' + where if where else ''}: "
                          f"{first['msg'].removeprefix('Value error, ')}") from None
    return spec.model_dump()
