"""Weather file readers.

``read_dwd_try`` parses a DWD test reference year (TRY2010 format, as bundled with demandlib) into
canonical pvlib-style names. Like ``pvlib.iotools``, each reader maps the file's variables to
canonical names (``VARIABLE_MAP``) and converts units; the physics (splitting direct horizontal
into DNI, solar geometry) is :mod:`dashboard.energy.weather`.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd

from dashboard.domain.errors import DecentraError

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
        raise DecentraError(f"cannot read the weather file ({err})", source=str(path)) from None
    try:
        star = next(i for i, line in enumerate(lines) if line.startswith("***"))
        header_line = max(i for i in range(star) if lines[i].startswith("RG"))
    except (StopIteration, ValueError):
        raise DecentraError("not a DWD TRY2010 file (no 'RG ...' header above '***')",
                            source=str(path)) from None
    names = lines[header_line].split()
    rows = [line.split() for line in lines[star + 1:] if line.strip()]
    frame = pd.DataFrame(rows, columns=names)
    try:
        frame = frame.apply(pd.to_numeric)
    except (ValueError, TypeError):
        raise DecentraError("non-numeric values in the data block", source=str(path)) from None
    if len(frame) != 8760:
        raise DecentraError(f"expected 8760 hourly rows, found {len(frame)}", source=str(path))
    data = pd.DataFrame({"month": frame["MM"], "day": frame["DD"], "hour": frame["HH"]})
    for col, (name, factor) in TRY_VARIABLE_MAP.items():
        if col in frame:
            data[name] = frame[col].astype(float) * factor
    meta = _parse_try_meta(lines[:header_line], path)
    return data, meta


def _parse_try_meta(header: list[str], path: Path) -> dict[str, object]:
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
