"""The grid of an imported district from a pandapower network or transformer points and lines:
read, checked against the buildings, and the distance check.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs
from dashboard.importer.report import Notes
from dashboard.io import attributes as attrs

RATING_ALIASES = ("rating_kva", "sn_kva", "kva", "rating", "capacity_kva", "power_kva")


TRANSFORMER_ID_ALIASES = ("transformer_id", "id", "name", "ref", "station_id")


FAR_TRANSFORMER_KM = 5.0          # a transformer further from every building: a warning


MAX_TRANSFORMER_KM = 50.0         # further: not this district's network


def check_transformer_distance(buildings: gpd.GeoDataFrame, transformers: gpd.GeoDataFrame,
                               label: str, notes: Notes) -> None:
    """Each transformer's distance to its nearest building: a network of another place (or
    of swapped coordinates) is refused naming the transformer."""
    from scipy.spatial import cKDTree

    crs = metric_crs(buildings)
    b = buildings.geometry.to_crs(crs).representative_point()
    t = transformers.geometry.to_crs(crs)
    ok = t.notna() & ~t.is_empty
    if not ok.any() or len(b) == 0:
        return
    tree = cKDTree(np.column_stack([b.x.to_numpy(), b.y.to_numpy()]))
    pts = np.column_stack([t[ok].x.to_numpy(), t[ok].y.to_numpy()])
    dist_km = tree.query(pts)[0] / 1000.0
    ids = transformers.loc[ok, "transformer_id"].astype(str).to_numpy()
    worst = int(np.argmax(dist_km))
    if dist_km[worst] > MAX_TRANSFORMER_KM:
        far = [f"{ids[i]} ({dist_km[i]:,.0f} km)" for i in np.argsort(-dist_km)[:5]
               if dist_km[i] > MAX_TRANSFORMER_KM]
        raise DecentraError(f"transformers are up to {dist_km[worst]:,.0f} km from the nearest "
                            "building: the network is of another place (or its coordinates "
                            "are swapped)", source=label, rows=far)
    if dist_km[worst] > FAR_TRANSFORMER_KM:
        notes.add(f"{label}: {int((dist_km > FAR_TRANSFORMER_KM).sum())} transformers are more "
                  f"than {FAR_TRANSFORMER_KM:g} km from every building (up to "
                  f"{dist_km[worst]:,.1f} km); please check the network")


def transformer_points(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if len(frame) == 0:
        raise DecentraError("the transformer layer is empty", source=label)
    if frame.crs is None:
        raise DecentraError("the transformer layer has no coordinate reference system",
                            source=label)
    geoms = frame.geometry
    if geoms.isna().any() or geoms.is_empty.any():
        raise DecentraError("some transformers have no geometry", source=label,
                            rows=[f"feature {i + 1}" for i in
                                  np.flatnonzero((geoms.isna() | geoms.is_empty).to_numpy())[:10]])
    pts = frame.to_crs(4326)
    pts = pts.set_geometry(pts.geometry.representative_point())
    lower = {c.lower(): c for c in frame.columns if c != frame.geometry.name}
    id_col = next((lower[a] for a in TRANSFORMER_ID_ALIASES if a in lower), None)
    try:
        ids = attrs.ids_for(pd.DataFrame(frame), id_col)
    except DecentraError as err:
        raise DecentraError(err.message.replace("building", "transformer"), source=label,
                            rows=err.rows) from None
    if id_col is None:
        ids = [f"T{i + 1:02d}" for i in range(len(frame))]
    rating = np.full(len(frame), np.nan)
    rate_col = next((lower[a] for a in RATING_ALIASES if a in lower), None)
    if rate_col is not None:
        rating = attrs.numeric_column(frame, rate_col, "rating_kva", ids).to_numpy(float)
    elif "sn_mva" in lower:
        rating = attrs.numeric_column(frame, lower["sn_mva"], "sn_mva", ids).to_numpy(
            float) * 1000
    return gpd.GeoDataFrame({"transformer_id": ids, "rating_kva": rating,
                             "std_type": frame[lower["std_type"]].astype(str).to_numpy()
                             if "std_type" in lower else ""},
                            geometry=pts.geometry.values, crs=4326)


def lines_layer(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise DecentraError("the line layer has no coordinate reference system", source=label)
    geoms = frame.geometry
    ok = geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(["LineString",
                                                                  "MultiLineString"])
    if not ok.any():
        raise DecentraError("the line layer holds no lines", source=label)
    out = frame.loc[ok].to_crs(4326)
    return gpd.GeoDataFrame(out.drop(columns=out.geometry.name),
                            geometry=shapely.force_2d(out.geometry.values), crs=4326)
