"""Footprints a district can use: polygons only, repaired where invalid, slivers and duplicates
dropped, in a plausible extent, each step noted.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs
from dashboard.importer.report import Notes
from dashboard.io import attributes as attrs
from dashboard.io.formats import (
    Limits,
)


def _row_labels(mask: np.ndarray, frame: pd.DataFrame, ids: list[str] | None = None
                ) -> list[str]:
    idx = np.flatnonzero(mask)[:10]
    if ids is not None:
        return [ids[i] for i in idx]
    return [f"feature {i + 1}" for i in idx]


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection":
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon",
                                                                        "MultiPolygon")]
        if not parts:
            return None
        merged = shapely.union_all(parts)
        return merged if merged.geom_type in ("Polygon", "MultiPolygon") else None
    return None


def _names(frame: pd.DataFrame, id_column: str | None) -> np.ndarray:
    """What to call each feature in a note: its id where the file has one, else its number."""
    col = id_column or attrs.find_columns(list(frame.columns)).get("building_id")
    names = np.array([f"feature {i + 1}" for i in range(len(frame))], dtype=object)
    if col is not None and col in frame.columns:
        raw = frame[col]
        known = raw.notna().to_numpy()
        names[known] = raw[known].astype(str).str.strip().str[:40].to_numpy(object)
    return names


def _first(names: np.ndarray, n: int = 5) -> str:
    """The first few names of a selection, for a note ("b1, b7, b9, ...")."""
    more = ", ..." if len(names) > n else ""
    return ", ".join(str(v) for v in names[:n]) + more


def clean_footprints(frame: gpd.GeoDataFrame, label: str, limits: Limits, notes: Notes,
                     id_column: str | None = None) -> tuple[gpd.GeoDataFrame, float]:
    """Polygons in EPSG:4326, repaired, plausibly placed; the district's extent [km].

    Self-intersecting polygons are repaired (``shapely.make_valid``, the polygonal part
    kept), duplicates (the same outline twice) and slivers skipped; each step is a note with
    its count and the first ids (``id_column``, else the id column the file seems to have).
    Raises DecentraError when nothing usable is left.
    """
    if len(frame) == 0:
        raise DecentraError("the layer is empty (no features)", source=label)
    if len(frame) > limits.max_buildings:
        raise DecentraError(f"{len(frame):,} features; at most {limits.max_buildings:,} "
                            "buildings are accepted per district", source=label)
    geoms = shapely.force_2d(np.asarray(frame.geometry.values, dtype=object))
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.all():
        raise DecentraError("no feature has a geometry", source=label)
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, (3, 6, 7)) & ~missing       # Polygon, MultiPolygon, collection
    if not polygonal.any():
        kinds = pd.Series(shapely.get_type_id(geoms[~missing])).map(
            {0: "points", 1: "lines", 2: "rings", 4: "points", 5: "lines"}).fillna("shapes")
        what = kinds.value_counts().index[0]
        raise DecentraError(f"the layer holds {what}, but building footprints must be "
                            "polygons", source=label, rows=_row_labels(~missing, frame))
    if missing.any():
        notes.add(f"{int(missing.sum()):,} features without geometry were skipped")
    other = ~missing & ~polygonal
    if other.any():
        notes.add(f"{int(other.sum()):,} features that are not polygons (points or lines) "
                  "were skipped")
    names = _names(frame, id_column)
    keep = polygonal.copy()
    frame = frame.loc[keep].copy()
    geoms = geoms[keep]

    crs = frame.crs
    coords = shapely.get_coordinates(geoms)
    if not np.isfinite(coords).all():
        raise DecentraError("some coordinates are not numbers (NaN or infinite)",
                            source=label)
    lonlat_like = (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    if crs is None:
        if not lonlat_like:
            x, y = coords[0]
            raise DecentraError(f"the file has no coordinate reference system and the "
                                f"coordinates (e.g. {x:,.1f}, {y:,.1f}) are not longitude/"
                                "latitude; add the .prj file or save with a CRS",
                                source=label)
        notes.add("The file names no coordinate reference system: WGS 84 longitude/latitude "
                  "(EPSG:4326) was assumed")
        crs = "EPSG:4326"
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        repaired = np.array([_polygonal(g) for g in shapely.make_valid(geoms[invalid])],
                            dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = repaired
        lost = int(sum(g is None for g in repaired))
        kept_names = names[keep]
        notes.add(f"{int(invalid.sum()):,} invalid or self-intersecting polygons were "
                  f"repaired (make_valid: {_first(kept_names[invalid])})"
                  + (f"; {lost:,} had no area left and were skipped "
                     f"({_first(kept_names[invalid][[g is None for g in repaired]])})"
                     if lost else ""))
    collections = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if len(collections):
        geoms = geoms.copy()
        geoms[collections] = [_polygonal(g) for g in geoms[collections]]
    ok = np.array([g is not None and not g.is_empty for g in geoms])
    if not ok.any():
        raise DecentraError("no usable polygon is left after repairing the geometries",
                            source=label)
    try:
        out = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name).loc[ok],
                               geometry=list(geoms[ok]), crs=crs).to_crs(4326)
    except Exception as err:  # pyproj errors: unknown or broken CRS
        raise DecentraError(f"the coordinates cannot be transformed to longitude/latitude "
                            f"({str(err)[:160]})", source=label) from None
    out.index = np.flatnonzero(keep)[ok]   # feature numbers of the source, for messages
    ll = shapely.get_coordinates(out.geometry.values)
    if not np.isfinite(ll).all() or (np.abs(ll[:, 1]) > 85).any() \
            or (np.abs(ll[:, 0]) > 180).any():
        raise DecentraError("coordinates fall outside the Earth (|latitude| > 85 deg) after "
                            "reprojection: is the CRS right?", source=label)
    centres = shapely.centroid(out.geometry.values)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    near_null = (np.abs(cx) < 0.01) & (np.abs(cy) < 0.01)
    if near_null.any():
        raise DecentraError("buildings at longitude 0, latitude 0 ('null island'): "
                            "coordinates are missing or the CRS is wrong",
                            source=label, rows=[f"feature {i + 1}"
                                                for i in out.index[near_null][:10]])
    # extent in km, measured around the median centre (robust to a few strays)
    lat0, lon0 = float(np.median(cy)), float(np.median(cx))
    dx_km = (cx - lon0) * 111.32 * math.cos(math.radians(lat0))
    dy_km = (cy - lat0) * 110.57
    dist_km = np.hypot(dx_km, dy_km)
    extent_km = float(max(np.ptp(dx_km), np.ptp(dy_km)))
    if extent_km > limits.max_extent_km:
        far = dist_km > limits.max_extent_km / 2
        rows = [f"feature {i + 1}" for i in out.index[far][:10]] if far.any() else []
        raise DecentraError(f"the buildings spread over {extent_km:,.0f} km; a district is at "
                            f"most {limits.max_extent_km:,.0f} km across. Are some coordinates "
                            "wrong, or is the CRS wrong?", source=label, rows=rows)
    metric = out.to_crs(metric_crs(out))
    area_m2 = metric.geometry.area.to_numpy(float)
    tiny = area_m2 < limits.min_footprint_m2
    if tiny.all():
        raise DecentraError(f"every footprint is smaller than {limits.min_footprint_m2:g} m2: "
                            "are the coordinates in the units the CRS says?", source=label)
    if tiny.any():
        notes.add(f"{int(tiny.sum()):,} slivers smaller than {limits.min_footprint_m2:g} m2 "
                  f"were skipped: {_first(names[out.index[tiny]])}")
        out, metric = out.loc[~tiny], metric.loc[~tiny]
    # the same outline twice (to ~1 cm): one building drawn or exported twice
    outline = shapely.transform(shapely.normalize(out.geometry.values),
                                lambda xy: np.round(xy, 7))     # 1e-7 deg: ~1 cm
    twice = (pd.Series(shapely.to_wkb(outline)).duplicated().to_numpy()
             & ~shapely.is_empty(outline))
    if twice.any():
        notes.add(f"{int(twice.sum()):,} duplicate footprints (the same outline as an earlier "
                  f"one) were skipped: {_first(names[out.index[twice]])}")
        out, metric = out.loc[~twice], metric.loc[~twice]
    _note_strays(metric, names, notes)
    return out, max(extent_km, 0.01)


STRAY_M = 1000.0    # a building farther than this from every other is worth a look


def _note_strays(metric: gpd.GeoDataFrame, names: np.ndarray, notes: Notes) -> None:
    """A note naming buildings far from all others (a typo in coordinates, or a farm)."""
    if len(metric) < 2:
        return
    from scipy.spatial import cKDTree

    c = shapely.centroid(metric.geometry.values)
    xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
    gap_m = cKDTree(xy).query(xy, k=2)[0][:, 1]
    far = gap_m > STRAY_M
    if far.any():
        notes.add(f"{int(far.sum()):,} buildings stand more than {STRAY_M / 1000:g} km from "
                  f"any other (check their coordinates): {_first(names[metric.index[far]])}; "
                  "their feeders are long")
