"""Weather on the district clock, and solar geometry.

The engine works on 8760 hourly steps of a reference (non-leap) year in a fixed UTC offset. Step
``i`` covers ``[i, i+1)`` hours after 1 January 00:00; irradiance values are hourly means over the
step, so solar geometry is evaluated at the step's midpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib

from dashboard.domain.district import HOURS_PER_YEAR, Site, timezone_of


def hourly_index(year: int, timezone: str) -> pd.DatetimeIndex:
    """Hour-start timestamps of a non-leap reference year (8760 steps)."""
    start = pd.Timestamp(year=year, month=1, day=1, tz=timezone_of(timezone))
    index = pd.date_range(start, periods=HOURS_PER_YEAR, freq="h")
    if index[-1].month != 12 or index[-1].day != 31:
        raise ValueError(f"{year} is a leap year; use a non-leap reference year")
    return index


def midpoints(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index + pd.Timedelta(minutes=30)


@dataclass(frozen=True, eq=False)
class SolarGeometry:
    """Sun position and derived quantities at step midpoints, as float64 arrays (hours,)."""

    apparent_zenith_deg: np.ndarray
    zenith_deg: np.ndarray
    azimuth_deg: np.ndarray
    airmass_relative: np.ndarray
    dni_extra_w_m2: np.ndarray


def solar_geometry(index: pd.DatetimeIndex, site: Site,
                   temp_air_c: np.ndarray | None = None) -> SolarGeometry:
    """pvlib solar position (NREL SPA), Kasten-Young relative airmass and extraterrestrial DNI
    at the midpoint of each hourly step — what ``pvlib.location.Location.get_solarposition``
    and ``get_airmass`` compute, called directly so that any fixed UTC offset (half hours
    included) works."""
    times = midpoints(index)
    kwargs = {} if temp_air_c is None else {"temperature": np.asarray(temp_air_c, float)}
    pos = pvlib.solarposition.get_solarposition(
        times, site.latitude_deg, site.longitude_deg, altitude=site.altitude_m,
        pressure=pvlib.atmosphere.alt2pres(site.altitude_m), **kwargs)
    airmass = pvlib.atmosphere.get_relative_airmass(pos["apparent_zenith"],
                                                    model="kastenyoung1989")
    return SolarGeometry(
        apparent_zenith_deg=pos["apparent_zenith"].to_numpy(float),
        zenith_deg=pos["zenith"].to_numpy(float),
        azimuth_deg=pos["azimuth"].to_numpy(float),
        airmass_relative=np.asarray(airmass, float),
        dni_extra_w_m2=np.asarray(pvlib.irradiance.get_extra_radiation(times), float),
    )


def weather_from_horizontal(index: pd.DatetimeIndex, site: Site, bhi_w_m2: np.ndarray,
                            dhi_w_m2: np.ndarray, temp_air_c: np.ndarray,
                            wind_speed_m_s: np.ndarray) -> pd.DataFrame:
    """Canonical weather from direct (beam) and diffuse horizontal irradiance, as in DWD TRY.

    ``ghi = bhi + dhi``; ``dni = (ghi - dhi) / cos(zenith)`` by :func:`pvlib.irradiance.dni`,
    which sets DNI to 0 for a sun lower than 2 deg (zenith > 88 deg) to avoid the 1/cos blow-up.
    """
    bhi = np.clip(np.asarray(bhi_w_m2, float), 0, None)
    dhi = np.clip(np.asarray(dhi_w_m2, float), 0, None)
    ghi = bhi + dhi
    geo = solar_geometry(index, site, temp_air_c)
    dni = pvlib.irradiance.dni(ghi, dhi, geo.zenith_deg)
    dni = np.nan_to_num(np.asarray(dni, float), nan=0.0)
    return pd.DataFrame({
        "ghi": ghi, "dni": dni, "dhi": dhi,
        "temp_air": np.asarray(temp_air_c, float),
        "wind_speed": np.asarray(wind_speed_m_s, float),
    }, index=index)
