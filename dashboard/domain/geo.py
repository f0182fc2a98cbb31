"""Measuring geometries: the metric CRS every length and area is taken in."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from dashboard.domain.errors import DecentraError


def metric_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """A metric CRS for measuring: the WGS 84 UTM zone of the data's bounding-box centre
    (as ``estimate_utm_crs`` picks it, without its 50 ms CRS-database query)."""
    if frame.crs is None:
        raise DecentraError("the geometries have no CRS")
    lon0, lat0, lon1, lat1 = frame.to_crs(4326).total_bounds
    lon, lat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 < lat < 90):
        raise DecentraError("cannot find a metric CRS for these coordinates")
    zone = min(60, int((lon + 180) // 6) + 1)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"
