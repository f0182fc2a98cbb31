"""Synthetic cities for benchmarks and scale tests: tiles of a real district.

The real footprints, streets and synthesized feeders of a base district are copied onto a grid
of tiles (each tile a separate LV area with its own transformers). Annual demand is varied per
building by a seeded factor so tiles are not identical. The result is clearly labelled
synthetic (name, ``meta['synthetic'] = 'true'``).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs

TILE_GAP_M = 60.0
DEMAND_SPREAD = 0.10  # annual demand x U(1 - spread, 1 + spread)


def _shifted(geoms: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Geometries translated by ``shift`` (metres, in a metric CRS)."""
    coords = shapely.get_coordinates(geoms)
    return shapely.set_coordinates(shapely.transform(geoms, lambda c: c), coords + shift)


def synthetic_city(base: District, n_buildings: int, seed: int = 0) -> District:
    """``n_buildings`` buildings tiled from ``base`` (the last tile may be partial)."""
    if isinstance(n_buildings, bool) or not isinstance(n_buildings, int | np.integer):
        raise DecentraError("n_buildings must be a whole number")
    if not 1 <= n_buildings <= 2_000_000:
        raise DecentraError("n_buildings must be between 1 and 2,000,000")
    per_tile = base.n_buildings
    n_tiles = math.ceil(n_buildings / per_tile)
    cols = math.ceil(math.sqrt(n_tiles))
    crs = metric_crs(base.buildings)
    b_m = base.buildings.to_crs(crs)
    minx, miny, maxx, maxy = b_m.total_bounds
    step_x = (maxx - minx) + TILE_GAP_M
    step_y = (maxy - miny) + TILE_GAP_M
    layers = {
        "buildings": b_m,
        "transformers": base.transformers.to_crs(crs),
        "lines": base.lines.to_crs(crs),
        "streets": base.streets.to_crs(crs) if len(base.streets) else base.streets,
    }
    rng = np.random.default_rng(seed)
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in layers}
    width = max(4, len(str(n_tiles)))
    keep_last = n_buildings - (n_tiles - 1) * per_tile
    for t in range(n_tiles):
        dx, dy = (t % cols) * step_x, (t // cols) * step_y
        prefix = f"S{t:0{width}d}-"
        count = per_tile if t < n_tiles - 1 else keep_last
        b = layers["buildings"].iloc[:count].copy()
        tids = set(b["transformer_id"])
        tr = layers["transformers"][layers["transformers"]["transformer_id"].isin(tids)].copy()
        ln = layers["lines"][layers["lines"]["transformer_id"].isin(tids)].copy()
        kept = set("B:" + b["building_id"])
        ln = ln[(ln["kind"] != "service") | ln["to_node"].isin(kept)]
        for frame in (b, tr, ln):
            frame["transformer_id"] = prefix + frame["transformer_id"]
        b["building_id"] = prefix + b["building_id"]
        b["annual_demand_kwh"] = (b["annual_demand_kwh"].to_numpy()
                                  * rng.uniform(1 - DEMAND_SPREAD, 1 + DEMAND_SPREAD, len(b)))
        ln["line_id"] = prefix + ln["line_id"]
        for col in ("from_node", "to_node"):
            ln[col] = [f"B:{prefix}{v[2:]}" if v.startswith("B:") else prefix + v
                       for v in ln[col]]
        if "node" in tr:
            tr["node"] = prefix + tr["node"]
        shift = np.array([dx, dy])
        for name, frame in (("buildings", b), ("transformers", tr), ("lines", ln)):
            frame = frame.copy()
            frame["geometry"] = _shifted(frame.geometry.values, shift)
            out[name].append(frame)
        if len(layers["streets"]):
            st = layers["streets"].copy()
            st["geometry"] = _shifted(st.geometry.values, shift)
            out["streets"].append(st)

    def merged(name: str) -> gpd.GeoDataFrame:
        if not out[name]:
            return gpd.GeoDataFrame(geometry=[], crs=4326)
        frame = gpd.GeoDataFrame(pd.concat(out[name], ignore_index=True), crs=crs)
        return frame.to_crs(4326)

    meta = dict(base.meta)
    meta.update({"synthetic": "true",
                 "description": f"SYNTHETIC: {n_tiles} tiles of {base.name} "
                                f"({n_buildings} buildings), demand varied ±"
                                f"{100 * DEMAND_SPREAD:.0f} % (seed {seed})"})
    return District(
        name=f"Synthetic city ({n_buildings:,} buildings tiled from {base.name})",
        buildings=merged("buildings"), transformers=merged("transformers"),
        lines=merged("lines"), streets=merged("streets"), weather=base.weather,
        load_profiles=base.load_profiles, assumptions=base.assumptions, site=base.site,
        meta=meta)
