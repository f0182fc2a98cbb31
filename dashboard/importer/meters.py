"""Measured meter data in an import: measured buildings get their own load profile column.

A measured building's column ``meter:<building_id>`` is its series normalised to sum 1 and its
``annual_demand_kwh`` the measured annual energy, so the engine's (hours x profiles) table
reproduces the series exactly (demand = annual kWh x profile share); its ``load_profile`` names
the column and ``demand_assumed`` is False. Other buildings keep their standard profile.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.importer.report import Notes
from dashboard.io.timeseries import MeasuredSeries

METER_PREFIX = "meter:"


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


__all__ = ["METER_PREFIX", "apply_meter_data", "meter_profile_name"]
