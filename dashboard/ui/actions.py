"""Edits a planner makes, as pure functions: (district, scenario, form values) -> new scenario.

No Dash here. Every user number is validated; a bad value raises DecentraError with a message
for the user and the caller keeps the previous scenario.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import (
    BatteryPlacement,
    CommunityBattery,
    PvPlacement,
    Scenario,
)
from dashboard.scenarios import place_pv_by_rule

MAX_BATTERY_KWH_PER_BUILDING = 10_000.0
MAX_COMMUNITY_KWH = 100_000.0


def number(value: object, what: str, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """A form value as a float within [lo, hi] (or (lo, hi]); clear message otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DecentraError(f"{what}: please enter a number")
    if isinstance(value, bool):
        raise DecentraError(f"{what}: please enter a number")
    try:
        x = float(str(value).replace(",", ".")) if isinstance(value, str) else float(
            value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DecentraError(f"{what}: '{value}' is not a number") from None
    if not math.isfinite(x):
        raise DecentraError(f"{what}: please enter a finite number")
    if (x <= lo if lo_open else x < lo) or x > hi:
        low = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
        raise DecentraError(f"{what} must be {low} and at most {hi:g}; {x:g} is outside")
    return x


def _building(district: District, building_id: object) -> dict:
    ids = district.buildings["building_id"]
    match = district.buildings.loc[ids == str(building_id)]
    if match.empty:
        raise DecentraError(f"building {building_id!r} is not in this district")
    return match.iloc[0].to_dict()


def _ids(district: District, building_ids: Sequence[object]) -> list[str]:
    ids = [str(b) for b in building_ids]
    if not ids:
        raise DecentraError("select one or more buildings first")
    known = set(district.buildings["building_id"].astype(str))
    missing = [b for b in ids if b not in known]
    if missing:
        raise DecentraError("some selected buildings are not in this district", rows=missing)
    return list(dict.fromkeys(ids))


def max_kwp(district: District, roof_area_m2: float) -> float:
    """PV that fits on a roof at full coverage [kWp]."""
    return roof_area_m2 / district.assumptions.number("pv.module_area_m2_per_kwp")


def set_pv(district: District, scenario: Scenario, building_id: object, kwp: object,
           tilt_deg: object, azimuth_deg: object) -> Scenario:
    row = _building(district, building_id)
    limit = max_kwp(district, row["roof_area_m2"])
    size = number(kwp, "PV size [kWp]", 0, limit, lo_open=True) if limit > 0 else 0.0
    if limit <= 0:
        raise DecentraError(f"building {building_id} has no roof area for PV")
    tilt = number(tilt_deg, "Tilt [°]", 0, 90)
    az = number(azimuth_deg, "Azimuth [°]", 0, 360)
    return scenario.with_pv(PvPlacement(str(building_id), round(size, 3), tilt, az % 360))


def remove_pv(district: District, scenario: Scenario, building_ids: Sequence[object]) -> Scenario:
    return scenario.without_pv(*_ids(district, building_ids))


def set_battery(district: District, scenario: Scenario, building_ids: Sequence[object],
                kwh: object, kw: object) -> Scenario:
    ids = _ids(district, building_ids)
    cap = number(kwh, "Battery capacity [kWh]", 0, MAX_BATTERY_KWH_PER_BUILDING, lo_open=True)
    power = number(kw, "Battery power [kW]", 0, 10 * cap, lo_open=True)
    return scenario.with_battery(*[BatteryPlacement(i, cap, power) for i in ids])


def remove_battery(district: District, scenario: Scenario,
                   building_ids: Sequence[object]) -> Scenario:
    return scenario.without_battery(*_ids(district, building_ids))


def remove_all(district: District, scenario: Scenario, building_ids: Sequence[object]) -> Scenario:
    ids = _ids(district, building_ids)
    return scenario.without_pv(*ids).without_battery(*ids)


def pv_on_buildings(district: District, scenario: Scenario, building_ids: Sequence[object],
                    coverage_pct: object) -> Scenario:
    """PV on each selected roof at ``coverage_pct`` % of its area, oriented like the roof."""
    ids = _ids(district, building_ids)
    cov = number(coverage_pct, "Roof coverage [%]", 0, 100, lo_open=True) / 100.0
    return place_pv_by_rule(district, scenario, min_roof_m2=0.0, coverage=cov,
                            building_ids=ids)


def apply_rule(district: District, scenario: Scenario, min_roof_m2: object,
               coverage_pct: object) -> Scenario:
    """PV on every roof of at least ``min_roof_m2`` at ``coverage_pct`` %."""
    roof = number(min_roof_m2, "Minimum roof area [m²]", 0, 1e6)
    cov = number(coverage_pct, "Roof coverage [%]", 0, 100, lo_open=True) / 100.0
    out = place_pv_by_rule(district, scenario, min_roof_m2=roof, coverage=cov)
    if out is scenario:
        raise DecentraError(f"no roof of at least {roof:g} m² without that PV already")
    return out


def set_community(district: District, scenario: Scenario, transformer_id: object, kwh: object,
                  kw: object) -> Scenario:
    tid = str(transformer_id)
    if tid not in set(district.transformers["transformer_id"].astype(str)):
        raise DecentraError(f"transformer {tid!r} is not in this district")
    cap = number(kwh, "Community battery capacity [kWh]", 0, MAX_COMMUNITY_KWH, lo_open=True)
    power = number(kw, "Community battery power [kW]", 0, 10 * cap, lo_open=True)
    return scenario.with_community_battery(CommunityBattery(tid, cap, power))


def remove_community(district: District, scenario: Scenario, transformer_id: object) -> Scenario:
    del district
    return scenario.without_community_battery(str(transformer_id))
