"""Placements and indicators as GIS files and tables (EPSG:4326, opens in QGIS)."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.domain.district import District
from dashboard.domain.result import Result

# GeoPackage and GeoJSON keep long column names (no Shapefile 10-character limit).
BUILDING_ATTRS = ["building_id", "use_type", "storeys", "footprint_area_m2", "roof_area_m2",
                  "pv_potential_kwp", "annual_demand_kwh", "transformer_id"]


def buildings_layer(district: District, result: Result) -> gpd.GeoDataFrame:
    """One row per building: attributes, placements and indicators, EPSG:4326."""
    b = district.buildings[[*BUILDING_ATTRS, "geometry"]].reset_index(drop=True)
    r = result.buildings.reset_index(drop=True).drop(columns=["building_id", "transformer_id"])
    out = gpd.GeoDataFrame(pd.concat([b.drop(columns="geometry"), r], axis=1),
                           geometry=b.geometry.values, crs=district.buildings.crs)
    out.insert(1, "scenario", result.scenario.name)
    return out.to_crs(4326)


def transformers_layer(district: District, result: Result) -> gpd.GeoDataFrame:
    t = result.transformers.reset_index(drop=True)
    geo = district.transformers.set_index("transformer_id").loc[t["transformer_id"],
                                                                 "geometry"].values
    out = gpd.GeoDataFrame(t, geometry=geo, crs=district.transformers.crs)
    out.insert(1, "scenario", result.scenario.name)
    return out.to_crs(4326)


def lines_layer(district: District) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(district.lines).to_crs(4326)


def write_geojson(district: District, result: Result, path: str | Path) -> Path:
    path = Path(path)
    frame = buildings_layer(district, result)
    path.write_text(without_infinity(frame).to_json(na="null", drop_id=True), encoding="utf-8")
    return path


def write_geopackage(district: District, result: Result, path: str | Path) -> Path:
    """Layers buildings, transformers, lines (written to a temporary file, then renamed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.part.gpkg")
    if tmp.exists():
        tmp.unlink()
    without_infinity(buildings_layer(district, result)).to_file(tmp, layer="buildings",
                                                                driver="GPKG")
    without_infinity(transformers_layer(district, result)).to_file(tmp, layer="transformers",
                                                                   driver="GPKG")
    lines_layer(district).to_file(tmp, layer="lines", driver="GPKG")
    tmp.replace(path)
    return path


def indicators_csv(result: Result) -> str:
    """Per-building placements and indicators (no geometry)."""
    return result.buildings.reset_index(drop=True).to_csv(index=False, float_format="%.10g")


def summary_csv(result: Result, baseline: Result | None = None) -> str:
    from dashboard.domain.indicators import SUMMARY_INDICATORS

    rows = []
    for ind in SUMMARY_INDICATORS:
        value = result.summary.get(ind.key)
        row = {"key": ind.key, "indicator": ind.label, "unit": ind.unit, "value": value}
        if baseline is not None:
            row["baseline"] = baseline.summary.get(ind.key)
        row["formula"] = ind.formula
        rows.append(row)
    return pd.DataFrame(rows).to_csv(index=False, float_format="%.10g")


def hourly_transformers_csv(result: Result) -> str:
    """Hourly profiles of every transformer, long format: time, transformer_id, demand_kw,
    pv_kw, net_kw (import > 0), import_kw, export_kw, battery state of charge [kWh]."""
    frames = []
    for tid in result.transformer_ids:
        h = result.hourly(transformer_id=tid)
        frames.append(pd.DataFrame({
            "time": h.index.strftime("%Y-%m-%dT%H:%M%z"), "transformer_id": tid,
            "demand_kw": h["demand"], "pv_kw": h["pv"], "net_kw": h["net"],
            "import_kw": h["import"], "export_kw": h["export"],
            "building_batteries_soc_kwh": h["soc_building_batteries"],
            "community_battery_soc_kwh": h["soc_community_battery"]}))
    buf = io.StringIO()
    pd.concat(frames, ignore_index=True).to_csv(buf, index=False, float_format="%.4f")
    return buf.getvalue()


def without_infinity(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """inf (e.g. unlimited hosting capacity) as missing: GIS formats have no infinity."""
    out = frame.copy()
    num = out.select_dtypes("number").columns
    out[num] = out[num].replace([np.inf, -np.inf], np.nan)
    return out
