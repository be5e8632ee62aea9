"""The analysis' notes on its data in the page language.

The analysis layer writes its notes as English sentences (evaluation/analysis/prepare.py,
estimators/did/twfe.py). A Dutch page shows the known forms in Dutch, with municipality names for
codes; a note of an unknown form is never shown in English on a Dutch page: the page says that
one note is available in the English report instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from evaluation.report import formatting as fmt

CODE = re.compile(r"\b(GM\d{4}|BU\d{8})\b")
NOTES_NL = (
    (re.compile(r"^(\d+) unit\(s\) treated by other registered interventions are not used as "
                r"controls: (.*)\.$"),
     "{0} gemeente(n) die door andere geregistreerde interventies worden behandeld, tellen niet "
     "mee als vergelijking: {1}."),
    (re.compile(r"^(\d+) control unit\(s\) without any event in the window are left out of the fit "
                r"\((.*)\); they carry no information on the rate ratio but stay in the "
                r"randomization pool\.$"),
     "{0} vergelijkingsgemeente(n) zonder enige aanslag in de analyseperiode tellen niet mee in de "
     "schatting ({1}); ze zeggen niets over de verhouding, maar blijven meedoen in de "
     "randomisatietoets."),
    (re.compile(r"^Only (\d+) pre-period\(s\) before the start: the pre-trend check has little to "
                r"go on\.$"),
     "Slechts {0} periode(n) vóór de start: de toets op parallelle trends heeft weinig houvast."),
    (re.compile(r"^(\d+) rows with a missing (\S+) were left out \(repeated cross-sections\); "
                r"(\d+) rows remain\.$"),
     "{0} rijen zonder uitkomst ({1}) zijn weggelaten (herhaalde steekproeven); {2} rijen blijven over."),
)
UNKNOWN_NL = "Een opmerking van de analyse is alleen in het Engelse rapport beschikbaar (--lang en)."


def note_text(note: str, *, lang: str, names: Mapping[str, str]) -> str:
    """One note in `lang`, with municipality names where the reference has them."""
    if lang == "en":
        return _named(note, names)
    for pattern, dutch in NOTES_NL:
        match = pattern.match(note.strip())
        if match:
            parts = [_named(g, names).replace("and", "en").replace("more", "meer")
                     if not g.isdigit() else fmt.integer(int(g), lang=lang) for g in match.groups()]
            return dutch.format(*parts)
    return UNKNOWN_NL


def _named(text: str, names: Mapping[str, str]) -> str:
    return CODE.sub(lambda m: str(names.get(m.group(1)) or m.group(1)), text)
