"""What an import tells the planner: counts, area, the attribute mapping, what was assumed, and
the notes (warnings) it collected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboard.domain.district import District
from dashboard.domain.scenario import Scenario


@dataclass(frozen=True)
class ImportReport:
    """What was read, what was assumed, and what the user should know before accepting."""

    name: str
    source: str
    buildings: int
    footprint_area_m2: float
    annual_demand_kwh: float
    pv_potential_kwp: float
    transformers: int
    lines: int
    mapping: Mapping[str, str | None]       # our attribute -> the source column (None: absent)
    assumed: Mapping[str, int]              # our attribute -> buildings where it was assumed
    notes: tuple[str, ...]                  # plain sentences: repairs, drops, assumptions
    network_source: str
    weather_source: str
    placements: int = 0
    extent_km: float = 0.0
    # attribute -> where its values came from -> buildings (storeys: levels / height / assumed)
    provenance: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        n = self.buildings
        out = [f"{n:,} buildings, {self.footprint_area_m2 / 1e4:,.1f} ha of footprint, "
               f"{self.annual_demand_kwh / 1e6:,.2f} GWh/a demand, "
               f"{self.pv_potential_kwp / 1e3:,.1f} MWp rooftop PV potential "
               f"(district {self.extent_km:,.1f} km across)",
               f"{self.transformers:,} transformers and {self.lines:,} lines: "
               f"{self.network_source}",
               f"Weather: {self.weather_source}"]
        for key, count in self.assumed.items():
            if count and key not in self.provenance:
                out.append(f"{key} assumed for {count:,} of {n:,} buildings "
                           f"({100 * count / n:.0f} %)")
        for key, counts in self.provenance.items():
            out.append(f"{key}: " + ", ".join(f"{c:,} {how}" for how, c in counts.items()
                                              if c))
        if self.placements:
            out.append(f"{self.placements:,} placements read into a scenario")
        return out + list(self.notes)

    def mapping_rows(self) -> list[dict[str, str]]:
        """The attribute mapping as table rows: ours, from which column, how many assumed."""
        return [{"attribute": key, "column": col or "(not in the file)",
                 "assumed": f"{self.assumed.get(key, 0):,}" if key in self.assumed else ""}
                for key, col in self.mapping.items()]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "buildings": self.buildings,
                "footprint_area_m2": self.footprint_area_m2,
                "annual_demand_kwh": self.annual_demand_kwh,
                "pv_potential_kwp": self.pv_potential_kwp,
                "transformers": self.transformers, "lines": self.lines,
                "mapping": dict(self.mapping), "assumed": dict(self.assumed),
                "notes": list(self.notes), "network_source": self.network_source,
                "weather_source": self.weather_source, "placements": self.placements,
                "extent_km": self.extent_km,
                "provenance": {k: dict(v) for k, v in self.provenance.items()}}


def attribute_counts(table: pd.DataFrame, canon: pd.DataFrame
                     ) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """What was assumed for how many buildings, and where each attribute came from.

    Parameters
    ----------
    table:
        The building table of :func:`dashboard.synthesis.buildings.building_attributes`.
    canon:
        Its input columns (to tell whether roof areas were given).

    Returns
    -------
    assumed, provenance:
        attribute -> buildings where it was assumed; attribute -> source -> buildings
        (storeys from building levels / from height / assumed; use type from the data or
        tags / assumed; construction period known / unknown).
    """
    n = len(table)
    use_assumed = int(table["use_type_assumed"].sum())
    period_assumed = int(table["period_assumed"].sum())
    source = table["storeys_source"].astype(str)
    assumed = {"use_type": use_assumed,
               "storeys": int(table["storeys_assumed"].sum()),
               "annual_demand_kwh": int(table["demand_assumed"].sum()),
               "roof_area_m2": int(canon["roof_area_m2"].isna().sum())
               if "roof_area_m2" in canon else n,
               "construction_period": period_assumed}
    provenance = {
        "storeys": {"from building levels": int((source == "levels").sum()),
                    "from height": int((source == "height").sum()),
                    "assumed": int((source == "assumed").sum())},
        "use_type": {"from the data or tags": n - use_assumed, "assumed": use_assumed},
        "construction_period": {"known": n - period_assumed,
                                "unknown (typical dwelling size assumed)": period_assumed},
    }
    return assumed, provenance


@dataclass(frozen=True, eq=False)
class ImportResult:
    district: District
    report: ImportReport
    scenario: Scenario | None = None   # placements found in the file (Decentra exports)


@dataclass
class Notes:
    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.items.append(text)
