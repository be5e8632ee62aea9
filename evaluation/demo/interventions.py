"""The eight Field Lab interventions planted in the synthetic demo data (the ground truth).

Only the demo generator and the tests of the demo design files read this module; analyses never
do (they see the design files and the incidents, as a real evaluation would).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

DURATION_DAYS = 100  # each pilot runs 100 days from its start: end = start + 99 days
Kind = Literal["effective", "modest", "null", "backfire"]


@dataclass(frozen=True)
class PlantedIntervention:
    id: str
    title: str
    starts: dict[str, dt.date]  # municipality code -> first day
    rate_ratio: float  # true rate ratio inside the 100-day window, all target types and outcomes
    kind: Kind

    def end_of(self, unit: str) -> dt.date:
        return self.starts[unit] + dt.timedelta(days=DURATION_DAYS - 1)

    @property
    def end(self) -> dt.date:
        """The last day of the last unit's window."""
        return max(self.end_of(unit) for unit in self.starts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "units": list(self.starts),
            "starts": {unit: start.isoformat() for unit, start in self.starts.items()},
            "ends": {unit: self.end_of(unit).isoformat() for unit in self.starts},
            "end": self.end.isoformat(),
            "days": DURATION_DAYS,
            "true_rate_ratio": self.rate_ratio,
            "kind": self.kind,
        }


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


INTERVENTIONS: tuple[PlantedIntervention, ...] = (
    PlantedIntervention("fl-01-school-visits", "School visits by youth workers",
                        {"GM0599": _d("2025-03-03"), "GM0518": _d("2025-03-03")}, 0.65, "effective"),
    PlantedIntervention("fl-02-sport-club-workshops", "Workshops at sport clubs",
                        {"GM0034": _d("2025-02-03"), "GM0344": _d("2025-03-03"), "GM0855": _d("2025-03-31")},
                        0.90, "modest"),
    PlantedIntervention("fl-03-anonymous-reporting", "Anonymous-reporting toolbox",
                        {"GM0363": _d("2025-04-07")}, 1.00, "null"),
    PlantedIntervention("fl-04-housing-data-sharing", "Data sharing with housing corporations",
                        {"GM0796": _d("2025-05-05"), "GM0772": _d("2025-05-05"), "GM0758": _d("2025-05-05")},
                        0.70, "effective"),
    PlantedIntervention("fl-05-f4-fireworks-enforcement", "F4 fireworks enforcement",
                        {"GM0202": _d("2025-09-22"), "GM0268": _d("2025-09-22")}, 1.00, "null"),
    PlantedIntervention("fl-06-closure-powers", "Closure powers of mayors (Damocles)",
                        {"GM0014": _d("2025-06-02"), "GM0479": _d("2025-06-30"), "GM0392": _d("2025-07-28")},
                        0.85, "modest"),
    PlantedIntervention("fl-07-street-coaches", "Street coaches at night",
                        {"GM0307": _d("2025-05-12"), "GM0200": _d("2025-05-12")}, 0.75, "effective"),
    PlantedIntervention("fl-08-social-media-campaign", 'Social-media campaign against "attacks for hire"',
                        {"GM0995": _d("2025-03-17"), "GM0505": _d("2025-03-17")}, 1.30, "backfire"),
)


def rate_ratio_surface(codes: list[str], days: pd.DatetimeIndex) -> np.ndarray:
    """Planted rate ratio per unit (row, in `codes` order) and day (column); 1 outside windows."""
    surface = np.ones((len(codes), len(days)))
    row = {code: i for i, code in enumerate(codes)}
    for item in INTERVENTIONS:
        for unit, start in item.starts.items():
            inside = (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(item.end_of(unit)))
            surface[row[unit], inside] *= item.rate_ratio
    return surface
