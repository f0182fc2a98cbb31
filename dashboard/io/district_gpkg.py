"""A district as one GeoPackage: everything the engine needs, self-contained.

Layers: ``buildings`` (polygons), ``transformers`` (points), ``lines`` and ``streets``
(linestrings), all EPSG:4326; attribute tables ``weather`` (8760 hourly rows), ``load_profiles``
(8760 rows, one column per profile), optionally ``pv_profiles`` (8760 rows, measured PV output
per kWp, one column per building with measured PV), ``assumptions`` (the assumptions table
used) and ``meta`` (key/value: name, site, reference year, time zone, sources, licences,
synthetic flag).

Files are written to a temporary name and renamed into place, so a reader never sees half a
district.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import (
    BUILDING_COLUMNS,
    LINE_COLUMNS,
    TRANSFORMER_COLUMNS,
    WEATHER_COLUMNS,
    District,
    Site,
)
from dashboard.domain.errors import DecentraError
from dashboard.energy.weather import hourly_index

FORMAT = "decentra.district"
FORMAT_VERSION = "1"
REQUIRED_LAYERS = ("buildings", "transformers", "lines", "weather", "load_profiles",
                   "assumptions", "meta")


def write_district(district: District, path: str | Path) -> Path:
    """Write ``district`` to a GeoPackage at ``path`` (atomically replaced)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    # SQLite syncs every layer's transactions to disk by default (half the write time); the
    # file is written whole to a temporary name, so it is synced once at the end instead,
    # before it replaces the old one
    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        for layer, frame in (("buildings", district.buildings),
                             ("transformers", district.transformers),
                             ("lines", district.lines), ("streets", district.streets)):
            gdf = gpd.GeoDataFrame(frame).to_crs(4326)
            # keep Polygon and MultiPolygon as they are (promotion would change the hash)
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG",
                                    promote_to_multi=False)
        weather = district.weather[[c.name for c in WEATHER_COLUMNS]].reset_index(drop=True)
        weather.insert(0, "hour", np.arange(len(weather)))
        pyogrio.write_dataframe(weather, tmp, layer="weather", driver="GPKG")
        profiles = district.load_profiles.reset_index(drop=True)
        profiles.insert(0, "hour", np.arange(len(profiles)))
        pyogrio.write_dataframe(profiles, tmp, layer="load_profiles", driver="GPKG")
        if district.pv_profiles is not None and len(district.pv_profiles.columns):
            pv = district.pv_profiles.reset_index(drop=True)
            pv.insert(0, "hour", np.arange(len(pv)))
            pyogrio.write_dataframe(pv, tmp, layer="pv_profiles", driver="GPKG")
        pyogrio.write_dataframe(pd.DataFrame(district.assumptions.records()), tmp,
                                layer="assumptions", driver="GPKG")
        meta = dict(district.meta)
        meta.update({
            "format": FORMAT, "format_version": FORMAT_VERSION, "name": district.name,
            "latitude_deg": repr(district.site.latitude_deg),
            "longitude_deg": repr(district.site.longitude_deg),
            "altitude_m": repr(district.site.altitude_m),
            "timezone": district.site.timezone,
            "reference_year": str(district.weather.index[0].year),
        })
        pyogrio.write_dataframe(pd.DataFrame({"key": list(meta), "value": list(meta.values())}),
                                tmp, layer="meta", driver="GPKG")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})
        if tmp.exists():
            tmp.unlink()
    return path


def read_district(path: str | Path) -> District:
    """Read a district GeoPackage written by :func:`write_district`."""
    path = Path(path)
    if not path.exists():
        raise DecentraError("file not found", source=str(path))
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as err:
        raise DecentraError(f"cannot read the file ({err.strerror})", source=str(path)) from None
    if head != b"SQLite format 3\x00":
        raise DecentraError("not a GeoPackage (a Decentra district file is a .gpkg)",
                            source=str(path))
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as err:  # pyogrio raises several DataSourceError kinds
        raise DecentraError(f"the GeoPackage cannot be opened ({_short(err)})",
                            source=str(path)) from None
    missing = [layer for layer in REQUIRED_LAYERS if layer not in layers]
    if missing:
        raise DecentraError(
            f"not a Decentra district: layers {', '.join(missing)} are missing (to bring your "
            f"own buildings use the import command)", source=str(path))
    try:
        meta_df = pyogrio.read_dataframe(path, layer="meta")
        meta = dict(zip(meta_df["key"].astype(str), meta_df["value"].astype(str), strict=True))
        if meta.get("format") != FORMAT:
            raise DecentraError("not a Decentra district file", source=str(path))
        if meta.get("format_version") != FORMAT_VERSION:
            raise DecentraError(f"district format version {meta.get('format_version')} is not "
                                f"supported (expected {FORMAT_VERSION})", source=str(path))
        buildings = _read_layer(path, "buildings", BUILDING_COLUMNS)
        transformers = _read_layer(path, "transformers", TRANSFORMER_COLUMNS)
        lines = _read_layer(path, "lines", LINE_COLUMNS)
        streets = (pyogrio.read_dataframe(path, layer="streets") if "streets" in layers
                   else gpd.GeoDataFrame(geometry=[], crs=4326))
        site = Site(float(meta["latitude_deg"]), float(meta["longitude_deg"]),
                    float(meta["altitude_m"]), meta["timezone"])
        index = hourly_index(int(meta["reference_year"]), site.timezone)
        weather = pyogrio.read_dataframe(path, layer="weather").sort_values("hour")
        weather = weather.drop(columns="hour").set_index(index)
        profiles = pyogrio.read_dataframe(path, layer="load_profiles").sort_values("hour")
        profiles = profiles.drop(columns="hour").set_index(index)
        pv_profiles = None
        if "pv_profiles" in layers:
            pv_profiles = pyogrio.read_dataframe(path, layer="pv_profiles").sort_values("hour")
            pv_profiles = pv_profiles.drop(columns="hour").set_index(index)
        assumptions = Assumptions.from_records(
            pyogrio.read_dataframe(path, layer="assumptions").fillna("").to_dict("records"))
    except DecentraError:
        raise
    except (KeyError, ValueError, TypeError, sqlite3.Error) as err:
        raise DecentraError(f"the district file is damaged ({_short(err)})",
                            source=str(path)) from None
    except Exception as err:  # pyogrio DataSourceError / DataLayerError
        raise DecentraError(f"the district file cannot be read ({_short(err)})",
                            source=str(path)) from None
    keep = {k: v for k, v in meta.items()
            if k not in {"format", "format_version", "name", "latitude_deg", "longitude_deg",
                         "altitude_m", "timezone", "reference_year"}}
    try:
        return District(name=meta.get("name", path.stem), buildings=buildings,
                        transformers=transformers, lines=lines, streets=streets,
                        weather=weather, load_profiles=profiles, assumptions=assumptions,
                        site=site, meta=keep, pv_profiles=pv_profiles)
    except DecentraError as err:
        raise DecentraError(err.message, source=str(path), rows=list(err.rows)) from None


def _read_layer(path: Path, layer: str, columns: tuple) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path, layer=layer)
    for col in columns:
        if col.name not in frame.columns and col.default is not None:
            continue                      # filled with its default by District
        if col.name not in frame.columns:
            raise DecentraError(f"layer '{layer}' lacks the column '{col.name}'",
                                source=str(path))
        if col.dtype == "str" and col.default is not None:   # empty text may read as null
            frame[col.name] = frame[col.name].fillna(col.default).astype(str)
        elif col.dtype == "str":
            frame[col.name] = frame[col.name].astype(str)
        elif col.dtype == "float":
            frame[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype(float)
        elif col.dtype == "bool":
            frame[col.name] = frame[col.name].astype(bool)
        elif col.dtype == "int":
            frame[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype(np.int64)
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]
