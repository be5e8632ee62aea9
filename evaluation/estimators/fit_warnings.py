"""Warnings of the fitting libraries: recorded into the result, never switched off globally.

`recorded(expected=...)` wraps one library call. A warning the call site expects (named there by
category and message, with the reason) is dropped; deprecation notices raised inside other
packages (pandas, pyfixest, csdid, ArviZ API churn) are not about the numbers and are dropped
too; every other warning (convergence, separation, overflow, sampler problems) goes to the
active `WarningLog`. `analyse` keeps one log per run and turns it into the `fit_warnings` check;
a diagnosis keeps one per simulation batch and counts them. With no log active a warning is
issued again as Python would (nothing is lost outside an analysis).
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.estimators.output import Check

CHECK_NAME = "fit_warnings"
NOISE = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
SHOWN = 5  # distinct messages written into the check's detail
_PACKAGE = str(Path(__file__).resolve().parents[1])
_ACTIVE: ContextVar[WarningLog | None] = ContextVar("evaluation_warning_log", default=None)


@dataclass(frozen=True)
class Expected:
    """A warning a call site expects and why it carries no information there."""

    category: type[Warning]
    message: str  # a regular expression searched in the message
    reason: str

    def matches(self, item: warnings.WarningMessage) -> bool:
        return issubclass(item.category, self.category) and bool(re.search(self.message, str(item.message)))


@dataclass
class WarningLog:
    """The warnings recorded during one analysis (or one batch of simulations)."""

    items: list[tuple[str, str]] = field(default_factory=list)  # (category, first message line)

    def add(self, item: warnings.WarningMessage) -> None:
        self.items.append((item.category.__name__, str(item.message).strip().splitlines()[0][:300]))

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(category for category, _ in self.items).items()))


# pyfixest's Poisson fits warn when they drop separated observations
SEPARATION = Expected(UserWarning, "removed because of separation",
                      "zero-only units and periods are left out before the fit and reported")
# not about any number: the samplers used (nutpie, PyMC's NUTS) do not need PyTensor's C BLAS
ALWAYS_EXPECTED = (Expected(UserWarning, "PyTensor could not link to a BLAS", "no C BLAS needed"),)


def _noise(item: warnings.WarningMessage) -> bool:
    foreign = not str(item.filename).startswith(_PACKAGE)
    return foreign and issubclass(item.category, NOISE)


def _route(caught: Sequence[warnings.WarningMessage], expected: Sequence[Expected]) -> None:
    log = _ACTIVE.get()
    for item in caught:
        if _noise(item) or any(e.matches(item) for e in (*expected, *ALWAYS_EXPECTED)):
            continue
        # a ResourceWarning is raised by the garbage collector for whatever object it happens to
        # free (an unclosed socket of a notebook kernel, a file): never about the fit that was
        # running, so it goes on to Python's own handling instead of into the fit's check
        if log is not None and not issubclass(item.category, ResourceWarning):
            log.add(item)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


@contextlib.contextmanager
def recorded(*, expected: Sequence[Expected] = ()) -> Iterator[None]:
    """Record the warnings of the wrapped call (see the module docstring)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    _route(caught, expected)


@contextlib.contextmanager
def warning_log() -> Iterator[WarningLog]:
    """Collect every warning raised inside (outside `recorded` blocks too) into one log."""
    log = WarningLog()
    token = _ACTIVE.set(log)
    try:
        with recorded():
            yield log
    finally:
        _ACTIVE.reset(token)


def warnings_check(log: WarningLog) -> Check:
    """The `fit_warnings` check: passes when the fits raised no warning, else lists them (it
    does not block the verdict; the checks that judge convergence and fit do)."""
    counts = log.counts()
    if not counts:
        return Check(name=CHECK_NAME, kind="fit_warnings", status="pass", values={"counts": {}},
                     detail="The fits raised no warnings (convergence, separation, overflow, sampler).")
    distinct = list(dict.fromkeys(f"{category}: {message}" for category, message in log.items))
    listed = "; ".join(distinct[:SHOWN]) + (f"; and {len(distinct) - SHOWN} more" if len(distinct) > SHOWN else "")
    total = sum(counts.values())
    return Check(name=CHECK_NAME, kind="fit_warnings", status="fail",
                 values={"counts": counts, "messages": distinct[:SHOWN]},
                 detail=f"The fits raised {total} warning(s) ({', '.join(f'{k} {v}' for k, v in counts.items())}): "
                        f"{listed}. Check the convergence of the fits named.")
