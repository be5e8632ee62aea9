"""The registered decision basis (issue 12): the design field, its validation and hash, and the
verdict following the basis with the other analysis as support."""

from __future__ import annotations

import pytest
import yaml

from evaluation.design.model import parse_design
from evaluation.errors import DesignError

BASE_YAML = """\
id: fl-01-school-visits
title: School visits by youth workers
owner: Jongerenwerk op Zuid
hypothesis: Visits reduce attacks in the visited municipalities.
design: did
treatment:
  units: [GM0599, GM0363]
  start: 2025-04-14
window:
  start: 2024-01-01
  end: 2025-07-22
"""


def design(**blocks):
    data = yaml.safe_load(BASE_YAML)
    for name, block in blocks.items():
        data[name] = block
    return parse_design(data)


# --- the design field --------------------------------------------------------------------------
def test_basis_defaults_to_primary_and_is_covered_by_the_hash():
    default = design()
    assert default.decision.basis == "primary"
    assert default.decision.expected_reduction == 0.20
    assert default.canonical["decision"]["basis"] == "primary"
    explicit = design(decision={"basis": "primary"})
    assert explicit.sha256 == default.sha256  # writing the default changes nothing
    bayes = design(analysis={"bayesian": True}, decision={"basis": "bayesian"})
    same_analysis = design(analysis={"bayesian": True})
    assert bayes.sha256 != same_analysis.sha256  # the basis alone changes the hash


def test_bayesian_basis_needs_the_bayesian_model():
    with pytest.raises(DesignError, match=r"decision\.basis: `bayesian` needs analysis\.bayesian: "
                                          r"true"):
        design(decision={"basis": "bayesian"})
    with pytest.raises(DesignError, match=r"decision\.basis: Input should be 'primary' or "
                                          r"'bayesian'"):
        design(decision={"basis": "posterior"})


def test_expected_reduction_is_at_least_the_minimum():
    with pytest.raises(DesignError, match=r"decision\.expected_reduction: 0\.1 is below "
                                          r"min_reduction 0\.15"):
        design(decision={"min_reduction": 0.15, "expected_reduction": 0.1})
    assert design(decision={"min_reduction": 0.15, "expected_reduction": 0.15}).decision.\
        expected_reduction == 0.15
