"""Decentra: plan rooftop solar, batteries and resilience on a real district.

Public API::

    import dashboard as dc
    district = dc.load_district()                    # embedded Bubeneč, Prague
    scenario = dc.place_pv_by_rule(district, dc.Scenario(name="60 % roofs"),
                                   min_roof_m2=200, coverage=0.6)
    result = dc.evaluate(district, scenario)
    result.summary["self_sufficiency"], result.buildings, result.transformers

    imported = dc.import_district("footprints.geojson")   # or .gpkg, zipped .shp, .osm.pbf
    imported.report.summary_lines(), imported.district, imported.scenario

    study = dc.grid_study(district, scenario)         # full-year AC power flow
    study.transformers, study.violations, study.buses, study.lines
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dashboard.domain import (
    BatteryPlacement,
    CommunityBattery,
    CriticalMark,
    DecentraError,
    District,
    PvPlacement,
    Scenario,
    ScenarioParams,
)
from dashboard.domain.indicators import SUMMARY_INDICATORS
from dashboard.domain.result import Result
from dashboard.scenarios import (
    baseline,
    battery_warnings,
    critical_facilities,
    evaluate,
    place_pv_by_rule,
    validate,
)

if TYPE_CHECKING:
    from dashboard.gridstudy import GridStudy
    from dashboard.importer import ImportResult

__version__ = "0.1.0"


def load_district(path: str | Path | None = None) -> District:
    """Load a district GeoPackage; the embedded default district (Bubeneč, Prague) when
    ``path`` is None."""
    from dashboard.io.district_gpkg import read_district
    from dashboard.paths import DEFAULT_DISTRICT

    return read_district(DEFAULT_DISTRICT if path is None else path)


def import_district(buildings: str | Path, **options: Any) -> ImportResult:
    """A district from a city's own files; see :func:`dashboard.importer.import_district`
    (options: layer, streets, network, transformers, weather, name, limits)."""
    from dashboard.importer import import_district as _import_district

    return _import_district(buildings, **options)


def grid_study(district: District, scenario: Scenario | None = None, *, hosting: bool = True,
               progress: Any = None) -> GridStudy:
    """Full-year AC power flow of ``scenario`` on ``district``: voltages, line and transformer
    loading, violations, and the hosting capacity of every transformer; see
    :mod:`dashboard.gridstudy`."""
    from dashboard.gridstudy import grid_study as _grid_study

    return _grid_study(district, scenario, hosting=hosting, progress=progress)


def to_pandapower(district: District) -> Any:
    """The district's grid as a pandapower network (``DistrictNet``: ``.net``, the bus of
    every building, ...); see :func:`dashboard.io.pandapower_net.to_pandapower`."""
    from dashboard.io.pandapower_net import to_pandapower as _to_pandapower

    return _to_pandapower(district)


def synthetic_city(n_buildings: int, seed: int = 0) -> District:
    """A synthetic city of ``n_buildings`` made by tiling the real Bubeneč footprints and their
    feeders, with demand varied per building by ``seed``. Labelled synthetic in its name and
    meta; for benchmarks and scale tests."""
    from dashboard.synthesis.city import synthetic_city as _synthetic_city

    return _synthetic_city(load_district(), n_buildings, seed=seed)


__all__ = [
    "SUMMARY_INDICATORS",
    "BatteryPlacement",
    "CommunityBattery",
    "CriticalMark",
    "DecentraError",
    "District",
    "PvPlacement",
    "Result",
    "Scenario",
    "ScenarioParams",
    "baseline",
    "battery_warnings",
    "critical_facilities",
    "evaluate",
    "grid_study",
    "import_district",
    "load_district",
    "place_pv_by_rule",
    "synthetic_city",
    "to_pandapower",
    "validate",
]
