"""Measured meter data in an import: measured buildings get their own load profile column;
measured output of existing PV becomes the district's ``pv_profiles``.

A measured building's column ``meter:<building_id>`` is its series normalised to sum 1 and its
``annual_demand_kwh`` the measured annual energy, so the engine's (hours x profiles) table
reproduces the series exactly (demand = annual kWh x profile share); its ``load_profile`` names
the column and ``demand_assumed`` is False. Other buildings keep their standard profile.

Measured PV output of an existing system becomes a unit profile ``pvmeter:<building_id>`` (the
series divided by the system's kWp) in the district's ``pv_profiles``, named by the building's
``pv_profile``: the engine uses it instead of the orientation model for whatever kWp the
scenario places there, so the imported system reproduces the series. The kWp is the file's
``pv_kwp`` where given, else estimated as measured annual energy / the modelled yield of the
roof's orientation (capped at what the roof holds).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import Site
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import PvPlacement, Scenario
from dashboard.importer.report import Notes
from dashboard.io.plausibility import check_values
from dashboard.io.timeseries import MeasuredSeries

METER_PREFIX = "meter:"
PV_PREFIX = "pvmeter:"


def meter_profile_name(building_id: str) -> str:
    """The load profile column of a building's measured series."""
    return f"{METER_PREFIX}{building_id}"


def apply_meter_data(table: gpd.GeoDataFrame, profiles: pd.DataFrame, series: MeasuredSeries,
                     notes: Notes) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The buildings table and profile table with the measured buildings' own series.

    Parameters
    ----------
    table:
        Buildings (``building_id``, ``annual_demand_kwh``, ``demand_assumed``).
    profiles:
        The (hours x standard profiles) table, columns summing to 1.
    series:
        Hourly average power [kW] of the measured buildings on the same hourly index.
    notes:
        The import report's notes (what was measured, how the year was laid).

    Returns
    -------
    tuple
        The new buildings table (with ``load_profile``) and profile table.
    """
    kw = series.kw.to_numpy(np.float64)
    annual_kwh = kw.sum(axis=0)                     # 1 h steps: kW averages are kWh
    names = [meter_profile_name(str(i)) for i in series.kw.columns]
    measured = pd.DataFrame(kw / annual_kwh, index=profiles.index, columns=names)
    out = table.copy()
    ids = out["building_id"].astype(str)
    annual = pd.Series(annual_kwh, index=[str(i) for i in series.kw.columns])
    hit = ids.isin(annual.index).to_numpy()
    out["load_profile"] = np.where(hit, METER_PREFIX + ids, "")
    out.loc[hit, "annual_demand_kwh"] = ids[hit].map(annual).to_numpy(np.float64)
    out.loc[hit, "demand_assumed"] = False
    step = "hourly" if series.step_minutes == 60 else "15-minute values averaged to hours"
    leap = pd.Timestamp(year=series.year, month=12, day=31).dayofyear == 366
    year = profiles.index[0].year
    n = int(hit.sum())
    notes.add(f"Meter data ({series.label}): "
              + (f"{n:,} buildings use their" if n != 1 else "1 building uses its")
              + f" measured demand ({series.year}, {step}"
              + (", 29 February dropped" if leap else "")
              + f"), {annual_kwh.sum() / 1000:,.1f} MWh/a; "
              + (f"laid hour by hour onto the reference year {year} (dates kept, weekdays may "
                 "shift); " if series.year != year else "")
              + (f"{abs(series.wrapped_h):g} h moved across the turn of the year by the "
                 "conversion to local time were wrapped around; " if series.wrapped_h else "")
              + "the other buildings use standard profiles")
    for warning in series.warnings:
        notes.add(warning)
    return out, pd.concat([profiles, measured], axis=1)


def apply_pv_data(table: gpd.GeoDataFrame, series: MeasuredSeries, scenario: Scenario | None,
                  weather: pd.DataFrame, site: Site, assumptions: Assumptions, notes: Notes,
                  scenario_name: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame, Scenario]:
    """The buildings table (with ``pv_profile``), the measured PV unit profiles and the
    imported scenario with a PV placement on every building with measured output.

    Parameters
    ----------
    table:
        Buildings (``building_id``, ``roof_tilt_deg``, ``azimuth_deg``, ``roof_area_m2``).
    series:
        Measured AC output [kW average per hour] of existing systems, on the weather's index.
    scenario:
        Placements found in the footprints file (their ``pv_kwp`` is the system size), or None.
    weather, site, assumptions:
        For the modelled yield that sizes systems of unknown kWp.
    notes:
        The import report's notes.
    scenario_name:
        The name of the scenario when the file had no placements.

    Returns
    -------
    tuple
        Buildings table, ``pv_profiles`` (hours x measured buildings) [kWh/kWp per hour], and
        the scenario of existing systems.

    Raises
    ------
    DecentraError
        When a measured output is more than any PV system of that size could yield.
    """
    from dashboard.energy.pv import ProfileBank, PvModel
    from dashboard.energy.weather import solar_geometry

    kw = series.kw.to_numpy(np.float64)
    bids = [str(c) for c in series.kw.columns]
    rows = pd.Index(table["building_id"].astype(str)).get_indexer(bids)
    existing = {p.building_id: p for p in (scenario.pv if scenario is not None else ())}
    placed = np.array([b in existing for b in bids], dtype=bool)
    tilt = np.where(placed, [existing[b].tilt_deg if b in existing else 0.0 for b in bids],
                    table["roof_tilt_deg"].to_numpy(np.float64)[rows])
    az = np.where(placed, [existing[b].azimuth_deg if b in existing else 0.0 for b in bids],
                  table["azimuth_deg"].to_numpy(np.float64)[rows])
    kwp = np.array([existing[b].kwp if b in existing else np.nan for b in bids])
    annual_kwh = kw.sum(axis=0)
    estimated = ~placed
    capped = np.zeros(len(bids), bool)
    if estimated.any():
        geometry = solar_geometry(weather.index, site, weather["temp_air"].to_numpy())
        bank = ProfileBank(weather, geometry, PvModel.from_assumptions(assumptions))
        cols, unit = bank.columns(tilt[estimated], az[estimated])   # as the engine models it
        modelled = unit[:, cols].sum(axis=0, dtype=np.float64)      # kWh per kWp and year
        roof_max = (table["roof_area_m2"].to_numpy(np.float64)[rows][estimated]
                    / assumptions.number("pv.module_area_m2_per_kwp"))
        guess = annual_kwh[estimated] / np.maximum(modelled, 1e-9)
        # floored to watts: a placement never exceeds what the roof holds
        kwp[estimated] = np.floor(np.minimum(guess, roof_max) * 1000.0) / 1000.0
        capped[estimated] = guess > roof_max
    bad_size = ~(kwp > 0)
    if bad_size.any():
        raise DecentraError("PV output: buildings without room for PV on their roof",
                            source=series.label,
                            rows=[b for b, x in zip(bids, bad_size, strict=True) if x])
    try:
        for warning in check_values("pv_yield_kwh_per_kwp", annual_kwh / kwp, series.label,
                                    "measured output per kWp", bids):
            notes.add(warning)
    except DecentraError as err:
        raise DecentraError(f"PV output: {err.message}", source=series.label,
                            rows=err.rows) from None
    names = [f"{PV_PREFIX}{b}" for b in bids]
    out = table.copy()
    ids = out["building_id"].astype(str)
    out["pv_profile"] = np.where(ids.isin(bids).to_numpy(), PV_PREFIX + ids, "")
    new = tuple(PvPlacement(b, float(k), float(t), float(a))
                for b, k, t, a, e in zip(bids, kwp, tilt, az, estimated, strict=True) if e)
    if scenario is None:
        scenario = Scenario(name=scenario_name, pv=new)
    else:
        scenario = Scenario(name=scenario.name, pv=scenario.pv + new,
                            batteries=scenario.batteries,
                            community_batteries=scenario.community_batteries,
                            params=scenario.params)
    pv_profiles = pd.DataFrame(kw / kwp, index=weather.index, columns=names)
    step = "hourly" if series.step_minutes == 60 else "15-minute values averaged to hours"
    notes.add(f"PV output ({series.label}): "
              + (f"{len(bids):,} existing systems use their" if len(bids) != 1
                 else "1 existing system uses its")
              + f" measured output ({series.year}, {step}), {annual_kwh.sum() / 1000:,.1f} MWh/a; "
              + (f"{int(estimated.sum()):,} sized from the roof's modelled yield (no pv_kwp "
                 "in the buildings file)" if estimated.any() else "sizes from pv_kwp")
              + (f", {int(capped.sum()):,} capped at what the roof holds" if capped.any()
                 else "")
              + "; the imported scenario places them")
    for warning in series.warnings:
        notes.add(warning)
    return out, pv_profiles, scenario


__all__ = ["METER_PREFIX", "PV_PREFIX", "apply_meter_data", "apply_pv_data",
           "meter_profile_name"]
