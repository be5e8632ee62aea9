"""Warnings of the fitting libraries are recorded into the result's checks, never printed and
never switched off globally (issue 18)."""

from __future__ import annotations

import warnings

import pytest

from evaluation.estimators.fit_warnings import (
    Expected,
    WarningLog,
    recorded,
    warning_log,
    warnings_check,
)


def test_a_warning_inside_an_analysis_goes_into_the_log_not_the_terminal(recwarn):
    with warning_log() as log:
        with recorded():
            warnings.warn("Maximum Likelihood optimization failed to converge", RuntimeWarning, stacklevel=2)
        warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=2)  # outside a recorded call
    assert log.items == [("RuntimeWarning", "Maximum Likelihood optimization failed to converge"),
                         ("RuntimeWarning", "overflow encountered in exp")]
    assert len(recwarn) == 0
    check = warnings_check(log)
    assert (check.kind, check.status, check.blocking) == ("fit_warnings", "fail", False)
    assert check.values["counts"] == {"RuntimeWarning": 2}
    assert "failed to converge" in check.text


def test_expected_warnings_are_dropped_with_their_reason_and_others_kept():
    separation = Expected(UserWarning, "removed because of separation", "reported already")
    with warning_log() as log, recorded(expected=(separation,)):
        warnings.warn("3 observations removed because of separation.", UserWarning, stacklevel=2)
        warnings.warn("something else", UserWarning, stacklevel=2)
    assert log.items == [("UserWarning", "something else")]
    assert warnings_check(WarningLog()).status == "pass"


def test_without_an_active_log_a_warning_is_issued_as_usual():
    with pytest.warns(RuntimeWarning, match="divide by zero"), recorded():
        warnings.warn("divide by zero encountered", RuntimeWarning, stacklevel=2)


def test_the_global_filters_are_left_as_they_were():
    before = list(warnings.filters)
    with warning_log(), recorded():
        warnings.warn("x", UserWarning, stacklevel=2)
    assert warnings.filters == before


def test_a_resource_warning_of_the_garbage_collector_is_not_a_fit_warning():
    """An unclosed socket freed during an analysis (e.g. a notebook kernel's, from an earlier
    test) is not about the fit: the `fit_warnings` check stays clean and the warning goes on."""
    import warnings as std_warnings

    from evaluation.estimators.fit_warnings import warning_log

    with std_warnings.catch_warnings(record=True) as outer:
        std_warnings.simplefilter("always")
        with warning_log() as log:
            std_warnings.warn("Unclosed socket <zmq.Socket(zmq.SUB)>", ResourceWarning, stacklevel=1)
    assert log.items == []
    assert [w.category for w in outer] == [ResourceWarning]
