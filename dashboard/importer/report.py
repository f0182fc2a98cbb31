"""What an import tells the planner: counts, area, the attribute mapping, what was assumed, and
the notes (warnings) it collected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
            if count:
                out.append(f"{key} assumed for {count:,} of {n:,} buildings "
                           f"({100 * count / n:.0f} %)")
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
                "extent_km": self.extent_km}


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
