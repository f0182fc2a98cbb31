"""Building attributes from footprints and whatever the source data knows.

Known values (use type, storeys, height, annual demand) are kept; the rest is filled from the
assumptions table and flagged ``*_assumed``. Areas are measured in a local UTM CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.domain.assumptions import PERIODS, Assumptions
from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs


def long_axis_bearing_deg(polygons: gpd.GeoSeries) -> np.ndarray:
    """Bearing of each footprint's long axis (minimum rotated rectangle), in [0, 180) degrees
    clockwise from north. Input must be in a metric CRS."""
    rects = shapely.oriented_envelope(polygons.values)
    coords = shapely.get_coordinates(rects)
    counts = shapely.get_num_coordinates(rects)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.zeros(len(polygons))
    for i, (s, c) in enumerate(zip(starts, counts, strict=True)):
        if c < 4:  # degenerate footprint
            continue
        p0, p1, p2 = coords[s], coords[s + 1], coords[s + 2]
        e1, e2 = p1 - p0, p2 - p1
        edge = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        out[i] = np.degrees(np.arctan2(edge[0], edge[1])) % 180.0
    return out


def roof_azimuth_deg(bearing_deg: np.ndarray) -> np.ndarray:
    """Azimuth of the roof side facing the sun: the normal to the long axis closest to south
    (180 deg). A pitched roof's ridge runs along the long axis, its two sides face the normals."""
    n1 = (bearing_deg + 90.0) % 360.0
    n2 = (bearing_deg + 270.0) % 360.0
    return np.where(np.abs(n1 - 180.0) <= np.abs(n2 - 180.0), n1, n2)


def building_attributes(footprints: gpd.GeoDataFrame, assumptions: Assumptions,
                        id_column: str | None = None) -> gpd.GeoDataFrame:
    """Canonical building table (EPSG:4326 geometry) from footprints.

    Optional input columns used when present: ``use_type``, ``storeys`` (OSM
    ``building:levels``), ``roof_levels``, ``min_level``, ``height_m``, ``dwellings``,
    ``construction_period`` (a code of :data:`dashboard.domain.assumptions.PERIODS`),
    ``annual_demand_kwh``, ``roof_area_m2``, ``critical`` and ``critical_reason`` (critical
    facilities, :func:`dashboard.io.attributes.critical_facilities`; passed through).

    Storeys: levels − min_level + roof levels × ``building.roof_level_floor_fraction``; else
    height / ``building.storey_height_m``; else assumed (two for a one-dwelling house, else
    the use type's default). Residential demand is a household model, not floor area alone:
    ``dwellings × use.residential.demand_per_dwelling_kwh + floor area ×
    use.residential.specific_demand_kwh_m2``, where the dwellings are known (``building:flats``,
    a house type) or floor area / the typical dwelling size of the construction period. A house
    has one dwelling whatever its size, a block of flats one per dwelling size: demand no
    longer scales like the roof. Other uses: floor area × specific demand.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`dashboard.domain.district.BUILDING_COLUMNS` plus ``storeys_source``
        ("levels", "height", "assumed"), ``dwellings``, ``construction_period`` ("" when
        unknown) and ``period_assumed``.
    """
    if footprints.crs is None:
        raise DecentraError("the footprints have no CRS")
    a = assumptions
    metric = footprints.to_crs(metric_crs(footprints))
    area = metric.geometry.area.to_numpy(float)
    n = len(metric)
    ids = (footprints[id_column].astype(str).to_numpy() if id_column
           else np.array([f"B{i + 1:04d}" for i in range(n)]))

    use = _known(footprints, "use_type", str)
    use_assumed = use.isna().to_numpy()
    small = a.number("building.ancillary_max_footprint_m2")
    large = a.number("building.nonresidential_min_footprint_m2")
    by_area = np.where(area < small, "ancillary",
                       np.where(area >= large, "commercial", "residential"))
    use_filled = np.where(use_assumed, by_area, use.fillna("").to_numpy(str))
    residential = use_filled == "residential"

    known_dw = _known(footprints, "dwellings", float).to_numpy(float)
    house = residential & ((known_dw <= 2) | (~np.isfinite(known_dw) & use_assumed & (
        area < a.number("building.house_max_footprint_m2"))))

    levels = _known(footprints, "storeys", float).to_numpy(float)
    levels = (levels - np.nan_to_num(_known(footprints, "min_level", float).to_numpy(float))
              + a.number("building.roof_level_floor_fraction")
              * np.nan_to_num(_known(footprints, "roof_levels", float).to_numpy(float)))
    levels = np.where(levels > 0, levels, np.nan)
    height = _known(footprints, "height_m", float).to_numpy(float)
    from_height = np.maximum(1.0, np.round(height / a.number("building.storey_height_m")))
    source = np.where(np.isfinite(levels), "levels",
                      np.where(np.isfinite(from_height), "height", "assumed"))
    storeys_v = np.where(np.isfinite(levels), levels, from_height)
    storeys_assumed = source == "assumed"
    default_storeys = _per_use(a, use_filled, "default_storeys")
    default_storeys = np.where(house, a.number("use.residential.house_storeys"),
                               default_storeys)
    storeys_v = np.where(storeys_assumed, default_storeys, storeys_v)
    floor = area * storeys_v

    period = _known(footprints, "construction_period", str).fillna("").to_numpy(str)
    period_known = np.isin(period, _PERIOD_CODES)
    dwelling_m2 = np.full(n, a.number("use.residential.dwelling_m2"))
    for code in _PERIOD_CODES:
        dwelling_m2[period == code] = a.number(f"period.{code}.dwelling_m2")
    dwellings = np.where(np.isfinite(known_dw), known_dw,
                         np.where(house, 1.0, np.maximum(1.0, np.round(floor / dwelling_m2))))
    dwellings = np.where(residential, dwellings, 0.0)

    roof = _known(footprints, "roof_area_m2", float).to_numpy(float)
    roof = np.where(np.isfinite(roof), roof, area)
    specific = _per_use(a, use_filled, "specific_demand_kwh_m2")
    modelled = floor * specific + dwellings * a.number("use.residential.demand_per_dwelling_kwh")
    demand = _known(footprints, "annual_demand_kwh", float).to_numpy(float)
    demand_assumed = ~np.isfinite(demand)
    demand = np.where(demand_assumed, modelled, demand)

    bearing = long_axis_bearing_deg(metric.geometry)
    tilt = a.number("pv.default_tilt_deg")
    potential = roof * a.number("pv.max_roof_coverage") / a.number("pv.module_area_m2_per_kwp")
    out = gpd.GeoDataFrame({
        "building_id": ids,
        "use_type": use_filled,
        "use_type_assumed": use_assumed,
        "storeys": np.round(storeys_v, 2),
        "storeys_assumed": storeys_assumed,
        "footprint_area_m2": np.round(area, 2),
        "floor_area_m2": np.round(floor, 2),
        "roof_area_m2": np.round(roof, 2),
        "roof_tilt_deg": np.full(n, tilt),
        "azimuth_deg": np.round(roof_azimuth_deg(bearing), 1),
        "pv_potential_kwp": np.round(potential, 2),
        "annual_demand_kwh": np.round(demand, 1),
        "demand_assumed": demand_assumed,
        "transformer_id": "",
        "critical": (footprints["critical"].fillna(False).astype(bool).to_numpy()
                     if "critical" in footprints.columns else np.zeros(n, bool)),
        "critical_reason": (footprints["critical_reason"].fillna("").astype(str).to_numpy()
                            if "critical_reason" in footprints.columns else ""),
        "storeys_source": source,
        "dwellings": dwellings,
        "construction_period": np.where(period_known, period, ""),
        "period_assumed": ~period_known,
    }, geometry=footprints.geometry.to_crs(4326).values, crs=4326)
    return out


_PERIOD_CODES = tuple(code for code, _, _ in PERIODS)


def _per_use(a: Assumptions, use: np.ndarray, name: str) -> np.ndarray:
    """A ``use.<type>.<name>`` number per building (looked up once per use type)."""
    out = np.zeros(len(use))
    for u in np.unique(use):
        out[use == u] = a.use(str(u), name)
    return out


def _known(frame: pd.DataFrame, column: str, kind: type) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([np.nan] * len(frame), index=frame.index, dtype=object
                         if kind is str else float)
    series = frame[column]
    if kind is str:
        s = series.astype("string").str.strip()
        return s.where(s.notna() & (s != ""), None).astype(object)
    return pd.to_numeric(series, errors="coerce").astype(float)
