"""Data checked before it is believed: plausibility of weather, sites, networks and buildings.

Each quantity has an *impossible* range (outside it the file is refused with one line naming
the file, the column and the value) and a *usual* range (outside it the value is accepted and
the import report warns). The bounds are data (:data:`BOUNDS`), with units in the names.

Weather gets checks of its own: missing-value markers (EPW writes 9999 / 99.9 / 999 for a
missing hour), units (kelvin for °C, irradiance scaled ×10 / ×100), sunshine at night (hours
shifted or shuffled), days repeated all year, and the site's latitude, longitude, altitude and
UTC offset against each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.errors import DecentraError


@dataclass(frozen=True)
class Bound:
    """``lo``..``hi``: possible; ``usual_lo``..``usual_hi``: not worth a warning."""

    label: str
    unit: str
    lo: float
    hi: float
    usual_lo: float
    usual_hi: float


BOUNDS: dict[str, Bound] = {
    # weather, hourly values
    "temp_air": Bound("air temperature", "°C", -90.0, 60.0, -45.0, 48.0),
    "ghi": Bound("global horizontal irradiance", "W/m²", -5.0, 1500.0, 0.0, 1400.0),
    "dni": Bound("direct normal irradiance", "W/m²", -5.0, 1400.0, 0.0, 1100.0),
    "dhi": Bound("diffuse horizontal irradiance", "W/m²", -5.0, 1000.0, 0.0, 800.0),
    "bhi": Bound("direct horizontal irradiance", "W/m²", -5.0, 1400.0, 0.0, 1100.0),
    "wind_speed": Bound("wind speed", "m/s", 0.0, 75.0, 0.0, 40.0),
    # weather, per year
    "ghi_annual_kwh_m2": Bound("global irradiation", "kWh/m² a", 300.0, 3000.0, 600.0, 2600.0),
    # site
    "latitude_deg": Bound("latitude", "°", -90.0, 90.0, -70.0, 72.0),
    "longitude_deg": Bound("longitude", "°", -180.0, 180.0, -180.0, 180.0),
    "altitude_m": Bound("altitude", "m", -430.0, 8850.0, -100.0, 4500.0),
    "utc_offset_h": Bound("UTC offset", "h", -12.0, 14.0, -12.0, 14.0),
    # buildings
    "annual_demand_kwh": Bound("annual demand", "kWh/a", 0.0, 2e8, 0.0, 2e7),
    "power_kw": Bound("average power of one building", "kW", 0.0, 1e5, 0.0, 1e4),
    "pv_yield_kwh_per_kwp": Bound("PV yield", "kWh/kWp a", 0.0, 3000.0, 400.0, 2000.0),
    "storeys": Bound("storeys", "", 0.0, 200.0, 0.0, 60.0),
    "height_m": Bound("height", "m", 0.0, 900.0, 0.0, 250.0),
    "roof_area_m2": Bound("roof area", "m²", 0.0, 1e6, 0.0, 1e5),
    "footprint_area_m2": Bound("footprint area", "m²", 0.0, 1e6, 0.0, 1e5),
    # networks
    "rating_kva": Bound("transformer rating", "kVA", 1.0, 1e7, 50.0, 1e5),
    "length_km": Bound("line length", "km", 0.0, 500.0, 0.0, 50.0),
    "r_ohm_per_km": Bound("line resistance", "Ω/km", 0.0, 100.0, 0.0, 10.0),
    "x_ohm_per_km": Bound("line reactance", "Ω/km", 0.0, 100.0, 0.0, 5.0),
    "max_i_ka": Bound("line current rating", "kA", 1e-4, 100.0, 0.01, 10.0),
    "vn_kv": Bound("voltage", "kV", 0.05, 1200.0, 0.2, 420.0),
    "vk_percent": Bound("short-circuit voltage", "%", 0.1, 100.0, 1.0, 25.0),
}

MISSING_MARKERS = {"temp_air": (99.9, 999.9), "ghi": (9999.0,), "dni": (9999.0,),
                   "dhi": (9999.0,), "bhi": (9999.0,), "wind_speed": (999.0,)}
MAX_FILLED_HOURS = 24          # missing hours interpolated at most (short gaps only)
MAX_FILLED_RUN_H = 6
NIGHT_SUN_W_M2 = 50.0           # more than this with the sun 6° below the horizon: wrong hours
MAX_NIGHT_SUN_HOURS = 24
MIN_DISTINCT_DAYS = 300         # a typical or measured year has (almost) no repeated day
MAX_OFFSET_MISFIT_H = 3.5       # UTC offset against the longitude's solar time
WARN_OFFSET_MISFIT_H = 2.0


def fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e6 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.4g}"


def check_values(key: str, values: np.ndarray | pd.Series, source: str,
                 column: str | None = None, rows: list[str] | None = None) -> list[str]:
    """Refuse values outside the possible range of ``key`` (one DecentraError naming the
    file, the column, the worst value and where); return warnings for unusual ones."""
    b = BOUNDS[key]
    v = np.asarray(values, dtype=float)
    name = column or key
    finite = np.isfinite(v)
    if not finite.all():
        where = np.flatnonzero(~finite)
        raise DecentraError(f"'{name}' ({b.label}) has values that are not finite numbers "
                            f"({fmt(float(v[where[0]]))})", source=source,
                            rows=_where(where, rows))
    low, high = v < b.lo, v > b.hi
    if low.any() or high.any():
        bad = np.flatnonzero(low | high)
        worst = float(v[bad[np.argmax(np.abs(v[bad]))]])
        raise DecentraError(f"'{name}' ({b.label}) of {fmt(worst)} {b.unit} is impossible "
                            f"(possible: {fmt(b.lo)} to {fmt(b.hi)} {b.unit})".replace("  ", " "),
                            source=source, rows=_where(bad, rows))
    odd = (v < b.usual_lo) | (v > b.usual_hi)
    if odd.any():
        worst = float(v[odd][np.argmax(np.abs(v[odd]))])
        return [f"{source}: {int(odd.sum()):,} values of '{name}' ({b.label}) are unusual, "
                f"e.g. {fmt(worst)} {b.unit}; please check them".replace("  ", " ")]
    return []


def _where(index: np.ndarray, rows: list[str] | None) -> list[str]:
    if rows is not None:
        return [rows[int(i)] for i in index[:10]]
    return [f"row {int(i) + 1}" for i in index[:10]]


# ---- weather --------------------------------------------------------------------------------
def check_site(meta: dict, source: str) -> list[str]:
    """The weather file's own site: latitude, longitude, altitude and UTC offset possible,
    and the offset near the longitude's solar time."""
    warnings: list[str] = []
    for key in ("latitude_deg", "longitude_deg", "altitude_m", "utc_offset_h"):
        if key in meta and meta[key] is not None:
            warnings += check_values(key, np.array([float(str(meta[key]))]), source,
                                     column=key.split("_")[0] if key != "utc_offset_h"
                                     else "time zone")
    if "utc_offset_h" in meta and "longitude_deg" in meta:
        offset = float(str(meta["utc_offset_h"]))
        if abs(offset * 4 - round(offset * 4)) > 1e-9:
            raise DecentraError(f"UTC offset {offset:+g} h is not a time zone (zones are whole, "
                                "half or quarter hours)", source=source)
        lon = float(str(meta["longitude_deg"]))
        solar = lon / 15.0
        misfit = abs(((offset - solar) + 12) % 24 - 12)
        if misfit > MAX_OFFSET_MISFIT_H:
            raise DecentraError(f"UTC offset {offset:+g} h does not fit longitude {lon:.2f}° "
                                f"(about {round(solar):+d} h there): the time zone is wrong",
                                source=source)
        if misfit > WARN_OFFSET_MISFIT_H:
            warnings.append(f"{source}: UTC offset {offset:+g} h is {misfit:.1f} h from the "
                            f"solar time of longitude {lon:.2f}°; please check the time zone")
    return warnings


def fill_missing(rows: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[str]]:
    """Missing-value markers (and NaN) as gaps: a few short ones are interpolated with a
    warning; more are refused naming the variable, the marker and the count."""
    rows = rows.copy()
    gap = np.zeros(len(rows), dtype=bool)
    found: list[str] = []
    for col in rows.columns:
        if col not in MISSING_MARKERS and col not in BOUNDS:
            continue
        v = rows[col].to_numpy(float)
        marked = ~np.isfinite(v)
        for m in MISSING_MARKERS.get(col, ()):
            marked |= np.isclose(v, m)
        if marked.any():
            found.append(f"{col} ({int(marked.sum()):,} h)")
            rows.loc[marked, col] = np.nan
            gap |= marked
    if not gap.any():
        return rows, []
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], gap.astype(int), [0]]))))[::2]
    if gap.sum() > MAX_FILLED_HOURS or runs.max() > MAX_FILLED_RUN_H:
        raise DecentraError(f"{int(gap.sum()):,} hours are missing (missing-value markers such "
                            f"as 9999 or empty values in {', '.join(found)}; the longest gap "
                            f"is {int(runs.max())} h): use a complete weather year",
                            source=source, rows=[f"hour {int(h) + 1}"
                                                 for h in np.flatnonzero(gap)[:5]])
    filled = rows.interpolate(limit_direction="both")
    return filled, [f"{source}: {int(gap.sum())} missing hours ({', '.join(found)}) were "
                    "interpolated from their neighbours"]


def check_weather(rows: pd.DataFrame, meta: dict, source: str) -> tuple[pd.DataFrame, list[str]]:
    """Canonical hourly rows (ghi or bhi, dni, dhi [W/m²], temp_air [°C], wind_speed [m/s];
    8760 in file order) and the file's site: the rows to use and the warnings; a DecentraError
    for what cannot be a year of weather at that site."""
    rows, warnings = fill_missing(rows, source)
    if "temp_air" in rows:
        t = rows["temp_air"].to_numpy(float)
        if np.median(t) > 150:
            raise DecentraError(f"air temperatures around {np.median(t):.0f} look like kelvin: "
                                "the file must give °C", source=source)
    ghi = rows["ghi"].to_numpy(float) if "ghi" in rows else (
        rows["bhi"].to_numpy(float) + rows["dhi"].to_numpy(float))
    peak = float(np.max(ghi))
    if peak > 10 * BOUNDS["ghi"].hi:
        raise DecentraError(f"global irradiance up to {fmt(peak)} W/m² (the sun gives at most "
                            "about 1,400): the values look scaled by 10 or 100", source=source)
    for col in ("ghi", "dni", "dhi", "bhi", "temp_air", "wind_speed"):
        if col in rows:
            warnings += check_values(col, rows[col].to_numpy(float), source, column=col,
                                     rows=[f"hour {i + 1}" for i in range(len(rows))])
    annual = float(np.clip(ghi, 0, None).sum()) / 1000.0
    warnings += check_values("ghi_annual_kwh_m2", np.array([annual]), source,
                             column="annual global irradiation")
    warnings += check_site(meta, source)
    _check_days(rows, source)
    if {"latitude_deg", "longitude_deg", "utc_offset_h"} <= set(meta):
        _check_night_sun(ghi, meta, source)
    return rows, warnings


def _check_days(rows: pd.DataFrame, source: str) -> None:
    cols = [c for c in ("ghi", "bhi", "temp_air") if c in rows]
    days = np.round(rows[cols].to_numpy(float)[: 365 * 24], 3).reshape(365, 24 * len(cols))
    distinct = len(np.unique(days, axis=0))
    if distinct < MIN_DISTINCT_DAYS:
        raise DecentraError(f"only {distinct} distinct days in the year (the same days "
                            "repeat): not a measured or typical year", source=source)


def _check_night_sun(ghi: np.ndarray, meta: dict, source: str) -> None:
    """Sunshine while the sun is well below the horizon at the file's own site and clock:
    the hours are shifted (time zone, daylight saving) or shuffled."""
    import pvlib

    from dashboard.domain.district import timezone_of, utc_offset_name

    offset = float(str(meta["utc_offset_h"]))
    start = pd.Timestamp(2019, 1, 1, tz=timezone_of(utc_offset_name(offset)))
    mid = pd.date_range(start, periods=len(ghi), freq="h") + pd.Timedelta(minutes=30)
    zen = pvlib.solarposition.get_solarposition(
        mid, float(str(meta["latitude_deg"])), float(str(meta["longitude_deg"])),
        method="nrel_numpy")["zenith"].to_numpy(float)
    night = (zen > 96.0) & (ghi > NIGHT_SUN_W_M2)
    if night.sum() > MAX_NIGHT_SUN_HOURS:
        raise DecentraError(f"the sun shines at night in {int(night.sum()):,} hours at this "
                            "site: the hours are shifted (time zone, daylight saving) or out "
                            "of order", source=source,
                            rows=[f"hour {int(h) + 1}" for h in np.flatnonzero(night)[:5]])


def check_order(month: np.ndarray, day: np.ndarray, hour: np.ndarray, source: str) -> None:
    """The file's own hour stamps run forward through the year."""
    stamp = (np.asarray(month, float) * 100 + np.asarray(day, float)) * 100 + np.asarray(
        hour, float)
    back = np.flatnonzero(np.diff(stamp) <= 0)
    if len(back):
        raise DecentraError("the hours are not in order (or repeat)", source=source,
                            rows=[f"row {int(i) + 2}" for i in back[:5]])


__all__ = ["BOUNDS", "Bound", "check_order", "check_site", "check_values", "check_weather",
           "fill_missing"]
