"""Weather file readers.

``read_dwd_try`` parses a DWD test reference year (TRY2010 format, as bundled with demandlib) into
canonical pvlib-style names. Like ``pvlib.iotools``, each reader maps the file's variables to
canonical names (``VARIABLE_MAP``) and converts units; the physics (splitting direct horizontal
into DNI, solar geometry) is :mod:`dashboard.energy.weather`.
"""

from __future__ import annotations

import os
import re
import threading
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.domain.district import utc_offset_name
from dashboard.domain.errors import DecentraError
from dashboard.io.plausibility import check_order, check_weather

# DWD TRY2010 column -> (canonical name, factor to canonical unit)
TRY_VARIABLE_MAP: dict[str, tuple[str, float]] = {
    "B": ("bhi", 1.0),           # direct (beam) horizontal irradiance [W/m2]
    "D": ("dhi", 1.0),           # diffuse horizontal irradiance [W/m2]
    "t": ("temp_air", 1.0),      # air temperature 2 m [degC]
    "WG": ("wind_speed", 1.0),   # wind speed 10 m [m/s]
    "p": ("pressure", 100.0),    # station pressure [hPa] -> [Pa]
    "RF": ("relative_humidity", 1.0),  # [%]
}


def bundled_try_path(region: int) -> Path:
    """Path of demandlib's bundled DWD TRY2010 file for climate region 1..15."""
    if not 1 <= int(region) <= 15:
        raise DecentraError(f"DWD TRY region must be 1..15, got {region}")
    base = resources.files("demandlib") / "vdi" / "resources_weather"
    return Path(str(base / f"TRY2010_{int(region):02d}_Jahr.dat"))


def read_dwd_try(path: str | Path) -> tuple[pd.DataFrame, dict[str, object]]:
    """Read a DWD TRY2010 ``.dat`` file.

    Returns
    -------
    data:
        8760 rows in file order (hour 1 = 00:00-01:00 MEZ on 1 January) with columns
        ``month, day, hour`` (hour ending, 1..24) and the canonical names of
        :data:`TRY_VARIABLE_MAP`.
    meta:
        ``station``, ``latitude_deg``, ``longitude_deg``, ``altitude_m``, ``region``.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        raise DecentraError(f"cannot read the weather file ({err.strerror})",
                            source=path.name) from None
    try:
        star = next(i for i, line in enumerate(lines) if line.startswith("***"))
        header_line = max(i for i in range(star) if lines[i].startswith("RG"))
    except (StopIteration, ValueError):
        raise DecentraError("not a DWD TRY2010 file (no 'RG ...' header above '***')",
                            source=path.name) from None
    names = lines[header_line].split()
    rows = [line.split() for line in lines[star + 1:] if line.strip()]
    frame = pd.DataFrame(rows, columns=names)
    try:
        frame = frame.apply(pd.to_numeric)
    except (ValueError, TypeError):
        raise DecentraError("non-numeric values in the data block", source=path.name) from None
    if len(frame) != 8760:
        raise DecentraError(f"expected 8760 hourly rows, found {len(frame)}", source=path.name)
    data = pd.DataFrame({"month": frame["MM"], "day": frame["DD"], "hour": frame["HH"]})
    for col, (name, factor) in TRY_VARIABLE_MAP.items():
        if col in frame:
            data[name] = frame[col].astype(float) * factor
    meta = parse_try_meta(lines[:header_line], path)
    return data, meta


def parse_try_meta(header: list[str], path: Path) -> dict[str, object]:
    meta: dict[str, object] = {"source": f"DWD TRY2010 ({path.name})"}
    for line in header:
        if line.startswith("Station:"):
            meta["station"] = line.split(":", 1)[1].split("WMO")[0].strip()
        if line.startswith("TRY"):
            m = re.search(r"Klimaregion\s+(\d+)", line)
            if m:
                meta["region"] = int(m.group(1))
        if line.startswith("Lage:"):
            m = re.search(r"(\d+)°(\d+)'N.*?(\d+)°(\d+)'O.*?(-?\d+)\s+Meter", line)
            if m:
                meta["latitude_deg"] = int(m.group(1)) + int(m.group(2)) / 60
                meta["longitude_deg"] = int(m.group(3)) + int(m.group(4)) / 60
                meta["altitude_m"] = float(m.group(5))
    return meta


# ---- hourly weather files of other formats -------------------------------------------------
CANONICAL = ("ghi", "dni", "dhi", "temp_air", "wind_speed")


def timezone_name(offset_h: float) -> str:
    """The zone name of a fixed UTC offset in hours (half and quarter hours kept exactly)."""
    return utc_offset_name(offset_h)


def _year_rows(data: pd.DataFrame, source: str, hour_ending: bool = False) -> pd.DataFrame:
    """8760 rows in file order (leap-day rows dropped); the engine lays them on its own
    reference year, hour 0 = 1 January 00:00-01:00 local standard time. ``hour_ending``:
    the index labels each hour by its end (pvlib's TMY3 reader), so 29 February 23:00-24:00
    is labelled 1 March 00:00."""
    if len(data) == 8784 and isinstance(data.index, pd.DatetimeIndex):
        start = data.index - pd.Timedelta(hours=1) if hour_ending else data.index
        data = data[~((start.month == 2) & (start.day == 29))]
    if len(data) != 8760:
        raise DecentraError(f"expected a year of hourly data (8760 rows), found {len(data)}",
                            source=source)
    missing = [c for c in CANONICAL if c not in data.columns]
    if missing:
        raise DecentraError(f"the weather file lacks {', '.join(missing)}", source=source)
    out = data[list(CANONICAL)].apply(pd.to_numeric, errors="coerce").astype(float)
    return out.reset_index(drop=True)     # missing values and ranges: plausibility.check_weather


def read_weather_file(path: str | Path) -> tuple[pd.DataFrame, dict[str, object]]:
    """An EPW, TMY3 or DWD TRY file: 8760 canonical rows (ghi, dni, dhi [W/m2], temp_air
    [degC], wind_speed [m/s]) in file order, and its site (latitude_deg, longitude_deg,
    altitude_m, utc_offset_h, source, warnings). DWD TRY rows carry direct horizontal
    irradiance (``bhi``) instead of DNI: the caller splits it with the solar geometry.

    The rows are checked before they are believed
    (:func:`dashboard.io.plausibility.check_weather`): hours in order, missing-value markers,
    units, ranges, night-time sun, repeated days, the site; ``warnings`` lists what is
    unusual but possible."""
    rows, meta = _read_weather_file(path)
    name = Path(path).name
    checked, warnings = check_weather(rows, meta, name)
    return checked, {**meta, "warnings": warnings}


def _read_weather_file(path: str | Path) -> tuple[pd.DataFrame, dict[str, object]]:
    import pvlib

    path = Path(path)
    name = path.name
    try:
        head = path.read_bytes()[:4096].decode("latin-1")
    except OSError as err:
        raise DecentraError(f"cannot read the weather file ({err.strerror})",
                            source=name) from None
    first = head.splitlines()[0] if head else ""
    try:
        if first.upper().startswith("LOCATION,"):
            data, meta = pvlib.iotools.read_epw(path)
            check_order(data["month"].to_numpy(), data["day"].to_numpy(),
                        data["hour"].to_numpy(), name)
            rows = _year_rows(data, name)   # pvlib labels EPW hours by their start
            return rows, {"latitude_deg": float(meta["latitude"]),
                          "longitude_deg": float(meta["longitude"]),
                          "altitude_m": float(meta["altitude"]),
                          "utc_offset_h": float(meta["TZ"]), "source": f"EPW ({name})"}
        if "Date (MM/DD/YYYY)" in head:
            data, meta = pvlib.iotools.read_tmy3(path, coerce_year=2019, map_variables=True)
            start = data.index - pd.Timedelta(hours=1)
            check_order(start.month.to_numpy(), start.day.to_numpy(), start.hour.to_numpy(),
                        name)
            rows = _year_rows(data, name, hour_ending=True)   # row 0 = 00:00-01:00
            return rows, {"latitude_deg": float(meta["latitude"]),
                          "longitude_deg": float(meta["longitude"]),
                          "altitude_m": float(meta["altitude"]),
                          "utc_offset_h": float(meta["TZ"]), "source": f"TMY3 ({name})"}
        if first.startswith("TRY") or "***" in head or "Klimaregion" in head:
            raw, meta = read_dwd_try(path)
            check_order(raw["month"].to_numpy(), raw["day"].to_numpy(), raw["hour"].to_numpy(),
                        name)
            rows = raw.reset_index(drop=True)
            return rows, {**meta, "utc_offset_h": 1.0, "source": meta.get("source", name)}
    except DecentraError:
        raise
    except Exception as err:  # pvlib parsers raise many kinds on damaged files
        raise DecentraError(f"the weather file cannot be read ({type(err).__name__}: "
                            f"{str(err)[:200]})", source=name) from None
    raise DecentraError("not a recognised weather file (EPW, TMY3 or DWD TRY)", source=name)


PVGIS_URL = "https://re.jrc.ec.europa.eu/api/"   # pvlib's default


def pvgis_cache_path(latitude_deg: float, longitude_deg: float, cache_dir: Path) -> Path:
    """Where :func:`fetch_pvgis` keeps the year of a site (degrees to 3 decimals)."""
    return cache_dir / f"pvgis_{latitude_deg:.3f}_{longitude_deg:.3f}.csv"


def fetch_pvgis(latitude_deg: float, longitude_deg: float, cache_dir: Path,
                timeout_s: float = 20.0, url: str = PVGIS_URL
                ) -> tuple[pd.DataFrame, dict[str, object]]:
    """A typical meteorological year from PVGIS (EU JRC) for a site, cached on disk; a clear
    message when PVGIS cannot be reached. PVGIS stamps hours in UTC: rows are rolled to local
    standard time (UTC offset from the longitude)."""
    import pvlib

    cache_dir.mkdir(parents=True, exist_ok=True)
    key = pvgis_cache_path(latitude_deg, longitude_deg, cache_dir)
    offset = round(longitude_deg / 15.0)
    if not key.exists():
        try:
            data = pvlib.iotools.get_pvgis_tmy(latitude_deg, longitude_deg, url=url,
                                               map_variables=True, timeout=timeout_s)[0]
        except Exception as err:  # requests errors: offline, DNS, timeout, HTTP
            raise DecentraError(f"PVGIS could not be reached ({type(err).__name__}); offline? "
                                "Upload an EPW, TMY3 or DWD TRY weather file instead",
                                source="PVGIS") from None
        utc = data[list(CANONICAL)].reset_index(drop=True)
        local = pd.DataFrame(np.roll(utc.to_numpy(float), offset, axis=0), columns=CANONICAL)
        tmp = key.with_name(f"{key.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        local.to_csv(tmp, index=False)
        os.replace(tmp, key)        # whole or absent: a reader never sees half a year
    rows = _year_rows(pd.read_csv(key), "PVGIS")
    meta: dict[str, object] = {"latitude_deg": latitude_deg, "longitude_deg": longitude_deg,
                               "utc_offset_h": float(offset),
                               "source": "PVGIS typical meteorological year (EU JRC)"}
    checked, warnings = check_weather(rows, meta, "PVGIS")
    return checked, {**meta, "warnings": warnings}
