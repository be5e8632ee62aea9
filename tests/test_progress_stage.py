"""Issue 18: long work says what it is doing (the Bayesian fit names its stage on the bar)."""

from __future__ import annotations

from evaluation import progress


def test_stage_names_what_the_open_bar_is_doing_and_goes_back():
    progress.set_enabled(True)
    try:
        with progress.progress_bar("analysing fl-01", 3):
            bar, task, _ = progress._shown[-1]
            progress.stage("sampling 4 chains x 2000 iterations")
            assert bar.tasks[0].description == "analysing fl-01: sampling 4 chains x 2000 iterations"
            progress.stage(None)
            assert bar.tasks[0].description == "analysing fl-01"
        assert progress._shown == []
        progress.stage("nothing open: no error")
    finally:
        progress.set_enabled(True)


def test_no_library_progress_outside_a_notebook():
    assert not progress.in_notebook() and not progress.notebook_progress()
