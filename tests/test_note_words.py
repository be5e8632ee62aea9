"""Analysis notes are codes with values; each language words every code from its own catalogue.

Expected sentences are literals written by hand, not the catalogue's output.
"""

from __future__ import annotations

import string

import pytest

from evaluation.notes import FIELDS, note
from evaluation.report.note_words import NOTE_MESSAGES, note_text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_every_code_with_exactly_its_values():
    assert set(NOTE_MESSAGES) == set(FIELDS)
    for code, (dutch, english) in NOTE_MESSAGES.items():
        assert placeholders(dutch) == set(FIELDS[code]), code
        assert placeholders(english) == set(FIELDS[code]), code


def test_a_note_takes_exactly_the_values_of_its_code():
    with pytest.raises(KeyError, match="takes"):
        note("few_pre_periods")
    with pytest.raises(KeyError, match="takes"):
        note("few_pre_periods", n=1, extra=2)
    with pytest.raises(KeyError, match="not in"):
        note("no_such_code", n=1)


def test_values_in_the_page_language_with_names_for_codes():
    names = {"GM0363": "Amsterdam", "GM0599": "Rotterdam"}
    elsewhere = note("treated_elsewhere", n=3, units=["GM0363", "GM0599", "GM0014"]).to_dict()
    assert note_text(elsewhere, lang="nl", names=names) == (
        "3 gemeente(n) die door andere geregistreerde interventies worden behandeld, tellen niet "
        "mee als vergelijking: Amsterdam, Rotterdam en GM0014.")
    assert note_text(elsewhere, lang="en", names=names) == (
        "3 unit(s) treated by other registered interventions are not used as controls: "
        "Amsterdam, Rotterdam and GM0014.")
    rows = note("rows_missing_outcome", rows=1234, outcome="fte", remain=56789).to_dict()
    assert note_text(rows, lang="nl", names={}).startswith("1.234 rijen zonder uitkomst (fte)")
    assert "56.789 rijen blijven over" in note_text(rows, lang="nl", names={})
    assert note_text(rows, lang="en", names={}).startswith("1,234 rows with a missing fte")
    history = note("diagnosis_history_only", n_before=52, first="2024-01-01", last="2024-12-23",
                   n_post=14, start="2025-03-03").to_dict()
    assert "(1 januari 2024 tot 23 december 2024)" in note_text(history, lang="nl", names={})
    assert "vanaf 3 maart 2025" in note_text(history, lang="nl", names={})
    model = note("fit_not_converged", model="negative_binomial").to_dict()
    assert note_text(model, lang="nl", names={}).startswith("Het model (negatief-binomiaal) is")
    season = note("seasonality_reduced", registered=3, pairs=1, frequency="quarter").to_dict()
    assert "een driemaandelijkse reeks" in note_text(season, lang="nl", names={})


def test_numpy_values_become_plain_json_values():
    import json

    import numpy as np

    made = note("empty_periods_dropped", n=np.int64(2), periods=np.array(["2024", "2025"]))
    assert json.loads(json.dumps(made.to_dict())) == {"code": "empty_periods_dropped", "n": 2,
                                                      "periods": ["2024", "2025"]}


def test_unknown_codes_and_old_sentences_never_put_english_on_a_dutch_page():
    assert note_text({"code": "from_the_future"}, lang="nl", names={}) == (
        "Een opmerking van de analyse (code from_the_future) heeft in deze versie geen tekst.")
    old = "2 rows were left out."
    assert note_text(old, lang="en", names={}) == old
    assert note_text(old, lang="nl", names={}) == (
        "Een opmerking van de analyse is alleen in het Engelse rapport beschikbaar (--lang en).")


def test_long_lists_name_ten_and_count_the_rest():
    units = [f"GM{i:04d}" for i in range(25)]
    made = note("zero_control_units_dropped", n=25, units=units).to_dict()
    assert note_text(made, lang="nl", names={}).endswith(
        "(GM0000, GM0001, GM0002, GM0003, GM0004, GM0005, GM0006, GM0007, GM0008, GM0009 en "
        "15 meer); ze zeggen niets over de verhouding (in een randomisatietoets tellen ze wel "
        "mee).")


def test_the_units_a_note_names_are_looked_up_for_their_names():
    from evaluation.analysis.run import _noted_units

    notes = [note("treated_elsewhere", n=2, units=["GM0363", "GM0599"]),
             {"code": "zero_control_units_dropped", "n": 1, "units": ["GM9002"]},
             {"code": "few_pre_periods", "n": 3}]
    assert _noted_units(notes) == ("GM0363", "GM0599", "GM9002")
