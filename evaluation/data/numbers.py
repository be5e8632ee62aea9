"""Number formats of delivered files, decided per file: "670000", "670.000", "670,000", "1.234,5".

A Dutch file writes 670.000 for six hundred and seventy thousand and 1.234,5 for one thousand two
hundred and thirty-four and a half; an English one 670,000 and 1,234.5. Read the wrong way, a
city's population is 1,000 times too small and every rate with it. So the format is decided for
the whole file from its values: a ';'-separated file is Dutch (Dutch Excel); otherwise every value
that can only be read one way decides ("12.345" cannot be a whole number in English, "1.234.567"
is only Dutch). A file whose values can be read both ways with different results ("670.000" and
nothing else to tell) is ambiguous and rejected with example rows, as is a file that mixes both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import DataError

DUTCH, ENGLISH, PLAIN = "dutch", "english", "plain"
_PATTERNS = {
    DUTCH: re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"),
    ENGLISH: re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$"),
}
_SEPARATORS = {DUTCH: (".", ","), ENGLISH: (",", ".")}  # thousands, decimal
_EXAMPLES = {DUTCH: "670.000", ENGLISH: "670,000"}


@dataclass(frozen=True)
class WholeNumbers:
    """A column read as whole numbers: `values` (float, NaN where a value is not a whole number in
    the file's format) and the `format` decided for the file."""

    values: pd.Series
    format: str  # dutch | english | plain (no separator anywhere)

    @property
    def bad_rows(self) -> np.ndarray:
        """1-based data rows whose value is not a whole number in the file's format."""
        return np.flatnonzero(self.values.isna().to_numpy()) + 1


def _reading(text: pd.Series, convention: str) -> pd.Series:
    """Each value read in `convention`; NaN where it is not a number written that way."""
    thousands, decimal = _SEPARATORS[convention]
    valid = text.str.match(_PATTERNS[convention])
    number = text.str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False)
    return pd.to_numeric(number.where(valid), errors="coerce")


def read_whole_numbers(
    text: pd.Series, *, dutch_file: bool, source: str, column: str
) -> WholeNumbers:
    """The column's whole numbers in the file's number format (decided from all its values)."""
    text = text.astype(str).str.strip().reset_index(drop=True)
    readings = {c: _reading(text, c) for c in (DUTCH, ENGLISH)}
    whole = {c: r.notna() & (r == np.floor(r)) for c, r in readings.items()}
    both = whole[DUTCH] & whole[ENGLISH]
    differ = both & (readings[DUTCH] != readings[ENGLISH])
    only = {DUTCH: whole[DUTCH] & ~whole[ENGLISH], ENGLISH: whole[ENGLISH] & ~whole[DUTCH]}
    if dutch_file:
        chosen = DUTCH
    elif only[DUTCH].any() and only[ENGLISH].any():
        first = {c: int(np.flatnonzero(only[c].to_numpy())[0]) for c in (DUTCH, ENGLISH)}
        raise DataError(
            f"{source}: column `{column}`: mixed number formats: "
            f'"{text[first[DUTCH]]}" (data row {first[DUTCH] + 1}) is Dutch, '
            f'"{text[first[ENGLISH]]}" (data row {first[ENGLISH] + 1}) is English; write every '
            "number the same way, best without separators (670000); nothing was stored"
        )
    elif only[DUTCH].any() or only[ENGLISH].any():
        chosen = DUTCH if only[DUTCH].any() else ENGLISH
    elif differ.any():
        rows = np.flatnonzero(differ.to_numpy())
        shown = ", ".join(f'"{text[i]}" (data row {i + 1})' for i in rows[:3])
        raise DataError(
            f"{source}: column `{column}`: ambiguous numbers: {shown} can be read with a "
            f"thousands separator ({_EXAMPLES[DUTCH]} = 670000 in Dutch) or a decimal mark, and "
            "no other value in the file tells which; write whole numbers without separators "
            "(670000), or save the file with ; as separator if it is Dutch; nothing was stored"
        )
    else:
        chosen = PLAIN
    convention = DUTCH if chosen == PLAIN else chosen
    values = readings[convention].where(whole[convention])
    return WholeNumbers(values=values.astype(float), format=chosen)
