"""The design file: a frozen, validated, hashable pre-specification of one evaluation.

`designs/<id>.yaml` is parsed into `Design`. Unknown keys are rejected with a did-you-mean, every
error names its field path, and the content hash covers the design with every default filled in
(see `evaluation.defaults`), so a change of default is a visible change of hash.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from evaluation import defaults
from evaluation.design.decision_rule import DecisionSpec, basis_problem
from evaluation.design.texts import LocalText
from evaluation.design.treatment_end import end_problem
from evaluation.design.yaml_loader import load_yaml
from evaluation.errors import DesignError

# A period is a date (store data or a dated panel) or an integer (a panel file counting periods).
# StrictInt: a YAML `true` must not pass as period 1.
Period = Union[dt.date, StrictInt]  # noqa: UP007 - pydantic smart-mode union: int stays int
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
UNIT_CODE = re.compile(r"^GM\d{4}$")

TargetType = Literal["woning", "bedrijf", "voertuig", "overig"]
Outcome = Literal["explosie", "poging"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class DataSpec(_Frozen):
    source: str = defaults.DATA_SOURCE
    frequency: Literal["day", "week", "month", "quarter", "year"] = defaults.FREQUENCY
    # "" means the panel file holds one series (no unit column); its unit is called "all".
    unit_column: str = defaults.UNIT_COLUMN
    time_column: str = defaults.TIME_COLUMN
    outcome: str = defaults.OUTCOME
    exposure: str | None = None
    covariates: tuple[str, ...] = ()
    target_types: tuple[TargetType, ...] = defaults.TARGET_TYPES
    outcomes: tuple[Outcome, ...] = defaults.OUTCOMES
    # repeated_cross_section: several rows per unit-period (e.g. restaurants per state and wave);
    # rows with a missing outcome are then dropped and the number dropped is reported.
    layout: Literal["panel", "repeated_cross_section"] = "panel"

    @property
    def from_store(self) -> bool:
        return self.source == "store"

    @field_validator("target_types", "outcomes")
    @classmethod
    def _non_empty_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one value")
        if len(set(value)) != len(value):
            raise ValueError("lists a value twice")
        return value


class TreatmentSpec(_Frozen):
    units: tuple[str, ...] = ()
    start: Period | dict[str, Period] | None = None
    start_column: str | None = None
    # last period of the intervention (or a map unit -> end); see analysis.phases
    end: Period | dict[str, Period] | None = None

    @model_validator(mode="after")
    def _start_given_once(self) -> TreatmentSpec:
        if self.start is None and self.start_column is None:
            raise ValueError("give either start (a date, a period number, or a map unit -> start) or start_column")
        if self.start is not None and self.start_column is not None:
            raise ValueError("give start or start_column, not both")
        if self.start_column is None and not self.units:
            raise ValueError("units: list at least one treated unit")
        if len(set(self.units)) != len(self.units):
            raise ValueError("units: a unit is listed twice")
        if isinstance(self.start, dict):
            missing = sorted(set(self.units) - set(self.start))
            extra = sorted(set(self.start) - set(self.units))
            if missing:
                raise ValueError(f"start: no start given for treated unit(s) {', '.join(missing)}")
            if extra:
                raise ValueError(f"start: unit(s) {', '.join(extra)} have a start but are not in units")
        return self

    @property
    def staggered(self) -> bool:
        """True when treated units start at different periods (a map with several values)."""
        if self.start_column is not None:
            return True  # known only from the data; estimators decide on the actual cohorts
        return isinstance(self.start, dict) and len(set(self.start.values())) > 1

    def end_of(self, unit: str) -> Period | None:
        """The last period of the intervention for `unit` (None: no end registered)."""
        if isinstance(self.end, dict):
            return self.end.get(unit)
        return self.end

    def start_of(self, unit: str) -> Period:
        if isinstance(self.start, dict):
            return self.start[unit]
        if self.start is None:
            raise DesignError(f"treatment.start: not given (the starts come from start_column "
                              f"`{self.start_column}` in the data); unit {unit} has no start here")
        return self.start

    @property
    def first_start(self) -> Period:
        if isinstance(self.start, dict):
            return min(self.start.values())
        if self.start is None:
            raise DesignError(f"treatment.start: not given (the starts come from start_column "
                              f"`{self.start_column}` in the data)")
        return self.start


class ExcludeSpec(_Frozen):
    start: Period
    end: Period

    @model_validator(mode="after")
    def _ordered(self) -> ExcludeSpec:
        if _key(self.end) < _key(self.start):
            raise ValueError(f"end: {self.end} lies before exclude.start {self.start}")
        return self


class WindowSpec(_Frozen):
    start: Period
    end: Period
    exclude: ExcludeSpec | None = None

    @model_validator(mode="after")
    def _ordered(self) -> WindowSpec:
        if _key(self.end) <= _key(self.start):
            raise ValueError(f"end: {self.end} must lie after window.start {self.start}")
        return self


class AnalysisSpec(_Frozen):
    model: Literal["poisson", "quasi_poisson", "negative_binomial", "linear"] = defaults.MODEL
    estimator: Literal["auto", "twfe", "callaway_santanna", "sun_abraham", "imputation"] = defaults.ESTIMATOR
    control_group: Literal["never_treated", "not_yet_treated"] = defaults.CONTROL_GROUP
    inference: Literal["auto", "model", "cluster", "randomization", "wild_bootstrap", "hac",
                       "placebo_blocks"] = defaults.INFERENCE
    hac_lags: int | None = Field(default=None, ge=0)
    randomization_draws: int = Field(default=defaults.RANDOMIZATION_DRAWS, ge=100)
    trend: bool = defaults.TREND
    seasonality: int = Field(default=defaults.SEASONALITY, ge=0, le=6)
    slope_change: bool = defaults.SLOPE_CHANGE
    event_window: tuple[int, int] = defaults.EVENT_WINDOW
    bayesian: bool = defaults.BAYESIAN
    alpha: float = Field(default=defaults.ALPHA, gt=0, lt=0.5)
    seed: int = Field(default=defaults.SEED, ge=0)
    # which period the verdict concerns when treatment.end is given: `during` the intervention,
    # `after` its end (does the reduction last?), or `both` (the whole window after the start)
    estimand: Literal["during", "after", "both"] = defaults.ESTIMAND

    @field_validator("event_window")
    @classmethod
    def _window(cls, value: tuple[int, int]) -> tuple[int, int]:
        lo, hi = value
        if not (lo < 0 <= hi):
            raise ValueError("must be [lead, lag] with lead < 0 <= lag, e.g. [-8, 8]")
        return value


class Design(_Frozen):
    id: str
    title: LocalText
    owner: str
    hypothesis: LocalText
    design: Literal["did", "its"]
    data: DataSpec = DataSpec()
    treatment: TreatmentSpec
    controls: Literal["untreated"] | tuple[str, ...] | None = None
    window: WindowSpec
    analysis: AnalysisSpec = AnalysisSpec()
    decision: DecisionSpec = DecisionSpec()

    @field_validator("title", "hypothesis")
    @classmethod
    def _local_text(cls, value: LocalText) -> LocalText:
        if isinstance(value, dict) and (not value or not all(v.strip() for v in value.values())):
            raise ValueError("give one text, or one per language: {nl: ..., en: ...}, none empty")
        return value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a lowercase slug of letters, digits and hyphens, e.g. fl-01-school-visits")
        return value

    @model_validator(mode="before")
    @classmethod
    def _fill_design_dependent_defaults(cls, values: Any) -> Any:
        # DiD compares with all never-treated units unless told otherwise; ITS has no controls
        # unless they are listed (then it is a controlled ITS).
        if isinstance(values, dict) and values.get("controls") is None and values.get("design") == "did":
            values = {**values, "controls": "untreated"}
        return values

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        if isinstance(self.controls, tuple):
            if not self.controls:
                raise ValueError("controls: the list is empty; list control units or write `untreated`")
            both = sorted(set(self.controls) & set(self.treatment.units))
            if both:
                raise ValueError(f"controls: unit(s) {', '.join(both)} are also treated; a unit is either treated or control")
        problem = basis_problem(basis=self.decision.basis, bayesian=self.analysis.bayesian)
        if problem:
            raise ValueError(problem)
        if self.data.from_store and self.treatment.start_column is not None:
            raise ValueError("treatment.start_column: only for a panel file; with source: store give treatment.start")
        start = self.treatment.first_start if self.treatment.start is not None else None
        if start is not None:
            if type(_key(start)) is not type(_key(self.window.start)):
                raise ValueError("treatment.start and window.start must both be dates or both period numbers")
            if not (_key(self.window.start) < _key(start) <= _key(self.window.end)):
                raise ValueError(
                    f"treatment.start: {start} lies outside the window ({self.window.start} .. {self.window.end}); "
                    "the window must include pre-periods and the start"
                )
            problem = end_problem(self.treatment, self.analysis.estimand)
            if problem:
                raise ValueError(problem)
            ex = self.window.exclude
            if ex is not None and _key(ex.start) <= _key(start) and _key(ex.end) >= _key(self.window.end):
                raise ValueError("window.exclude: swallows the whole post period from the start onwards; shorten it")
        return self

    # --- derived ---------------------------------------------------------------------------
    @property
    def canonical(self) -> dict[str, Any]:
        """The design with every default filled in, as JSON-ready data."""
        return self.model_dump(mode="json")

    @property
    def canonical_json(self) -> str:
        return canonical_json(self.canonical)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json.encode("utf-8")).hexdigest()

    @property
    def control_units(self) -> tuple[str, ...] | None:
        """Listed controls, or None when all never-treated units serve (did) / no controls (its)."""
        return self.controls if isinstance(self.controls, tuple) else None


def _key(value: Period) -> Any:
    # dates and period numbers never mix within one design (checked in Design._consistent)
    return value


def canonical_json(data: Any) -> str:
    """Key-sorted, whitespace-free JSON: the text whose SHA-256 is the design hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- loading ---------------------------------------------------------------------------------
def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the location `loc` (for did-you-mean suggestions)."""
    model: type[BaseModel] = Design
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nested is None:
            return None
        model = nested
    return model


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
    path = ".".join(str(p) for p in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        owner = _model_at(loc)
        name = str(loc[-1])
        hint = ""
        if owner is not None:
            close = difflib.get_close_matches(name, _field_names(owner), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else f"; allowed: {', '.join(_field_names(owner))}"
        return f"{path}: unknown field{hint}"
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    # A model validator reports at the model's own location and names the field in its message
    # ("controls: ..."); join the two so that every message starts with the full field path.
    named = _FIELD_PREFIX.match(message)
    if named and _names_field(loc, named.group(1)):
        return f"{'.'.join([*map(str, loc), named.group(1)])}: {named.group(2)}"
    return f"{path}: {message}"


_FIELD_PREFIX = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*): (.*)$", re.DOTALL)


def _names_field(loc: tuple[Any, ...], dotted: str) -> bool:
    """True when `dotted` (e.g. "window.exclude") is a field path inside the model at `loc`."""
    owner = _model_at((*loc, "_"))
    return owner is not None and dotted.split(".")[0] in owner.model_fields


# pydantic adds union member tags to locations ("date", "int", "function-after[...]"); drop them.
_UNION_TAGS = {"date", "int", "str", "dict[str,union[date,int]]", "literal['untreated']", "tuple[str, ...]"}


def validation_messages(exc: ValidationError) -> list[str]:
    """One message per problem, field path first; duplicates from union branches merged."""
    seen: dict[str, None] = {}
    period_paths: set[str] = set()
    errors = exc.errors()
    # `start` is a period or a map unit -> period: a failed union reports every branch; keep the
    # branch that matches the kind of input (a map: its entries; a scalar: the period message).
    scalar_failed = {_describe(e).split(":", 1)[0] for e in errors if e["type"].startswith(("date_", "int_"))}
    for error in errors:
        is_period_error = error["type"].startswith(("date_", "int_"))
        if is_period_error and isinstance(error["input"], dict):
            continue
        message = _describe(error)
        if error["type"] == "dict_type" and message.split(":", 1)[0] in scalar_failed:
            continue
        if is_period_error:
            # a failed `date | int` union reports both branches; say it once, plainly
            path = message.split(":", 1)[0]
            if path in period_paths:
                continue
            period_paths.add(path)
            message = f"{path}: must be a date (YYYY-MM-DD) or a period number, got {error['input']!r}"
        seen.setdefault(message, None)
    return list(seen)


def parse_design(data: Any, *, source: str = "<design>") -> Design:
    if not isinstance(data, dict):
        raise DesignError(f"{source}: a design file must be a YAML mapping of fields, found {type(data).__name__}")
    try:
        return Design.model_validate(data)
    except ValidationError as exc:
        problems = validation_messages(exc)
        raise DesignError(f"{source}: " + "; ".join(problems)) from None


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DesignError(f"{path}: design file not found; create one with `evaluation design new ID --design did|its`") from None
    return load_yaml(text, source=str(path))


def load_design(path: str | os.PathLike | Design) -> Design:
    """Read and validate `designs/<id>.yaml`; the id must equal the file name."""
    if isinstance(path, Design):
        return path
    path = Path(path)
    design = parse_design(read_yaml(path), source=str(path))
    if path.suffix in {".yaml", ".yml"} and path.stem != design.id:
        raise DesignError(f"{path}: id: `{design.id}` must equal the file name `{path.stem}`; rename the file or the id")
    return design
