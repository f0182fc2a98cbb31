"""Feeders and transformers from a pandapower network (``pandapower.to_json`` file).

Every transformer feeds the buses reachable from its low-voltage bus through in-service lines
and closed switches (without passing another transformer). Buildings are matched to the
network's loads by id (load name = building id) or else to the nearest load bus, and hang on
that bus's transformer. The network's JSON is kept with the district, so later grid
calculations use its real line and transformer parameters.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, shape

from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs

MAX_BUILDING_TO_NETWORK_M = 5000.0   # buildings further from the network: wrong files


@dataclass(frozen=True)
class PandapowerNetwork:
    transformers: gpd.GeoDataFrame   # transformer_id, rating_kva, std_type, lv_bus, geometry
    lines: gpd.GeoDataFrame          # line_id, transformer_id, kind, std_type, length_m, ...
    bus_points: gpd.GeoDataFrame     # bus, transformer_id (None: not fed), geometry
    load_buses: pd.DataFrame         # name, bus
    json_text: str


def _geometry(value: object) -> object:
    if isinstance(value, str) and value.strip():
        try:
            return shape(json.loads(value))
        except (ValueError, TypeError, KeyError):
            return None
    return None


def read_pandapower(path: str | Path) -> PandapowerNetwork:
    import pandapower as pp

    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DecentraError("not a pandapower network: the file is not UTF-8 JSON",
                            source=name) from None
    except OSError as err:
        raise DecentraError(f"cannot read the file ({err.strerror})", source=name) from None
    try:
        net = pp.from_json_string(text)
    except Exception as err:  # pandapower raises many kinds for foreign JSON
        raise DecentraError(f"not a pandapower network ({type(err).__name__})",
                            source=name) from None
    if not isinstance(net, pp.pandapowerNet):
        raise DecentraError("not a pandapower network (save it with pandapower.to_json)",
                            source=name)
    try:
        return _parse(net, name, text)
    except DecentraError:
        raise
    except (KeyError, AttributeError, ValueError, TypeError, IndexError) as err:
        raise DecentraError(f"the pandapower network is incomplete or damaged "
                            f"({type(err).__name__}: {str(err)[:120]})", source=name) from None


def _parse(net: Any, name: str, text: str) -> PandapowerNetwork:
    if len(net.trafo) == 0:
        raise DecentraError("the network has no transformer (net.trafo is empty)", source=name)
    # bus coordinates: pandapower 3 keeps GeoJSON in net.bus.geo
    if "geo" in net.bus and net.bus["geo"].notna().any():
        points = net.bus["geo"].map(_geometry)
    elif getattr(net, "bus_geodata", None) is not None and len(net.bus_geodata):
        g = net.bus_geodata
        points = pd.Series([Point(x, y) for x, y in zip(g["x"], g["y"], strict=True)],
                           index=g.index)
    else:
        raise DecentraError("the network has no bus coordinates (net.bus.geo)", source=name)
    points = points.reindex(net.bus.index)
    if points.isna().all():
        raise DecentraError("no bus has usable coordinates", source=name)
    coords = np.array([[p.x, p.y] if p is not None else [np.nan, np.nan] for p in points])
    crs = 4326 if (np.nanmax(np.abs(coords[:, 0])) <= 180
                   and np.nanmax(np.abs(coords[:, 1])) <= 90) else None
    if crs is None:
        raise DecentraError("bus coordinates are not longitude / latitude; save the network "
                            "with WGS 84 geodata", source=name)

    # buses fed by each transformer (breadth-first over lines and closed bus-bus switches)
    neighbours: dict[int, list[int]] = {int(b): [] for b in net.bus.index}
    open_lines = set()
    if len(net.switch):
        sw = net.switch
        open_lines = set(sw.loc[(sw["et"] == "l") & ~sw["closed"].astype(bool), "element"])
        for _, s in sw[(sw["et"] == "b") & sw["closed"].astype(bool)].iterrows():
            neighbours[int(s["bus"])].append(int(s["element"]))
            neighbours[int(s["element"])].append(int(s["bus"]))
    for idx, line in net.line.iterrows():
        if bool(line["in_service"]) and idx not in open_lines:
            neighbours[int(line["from_bus"])].append(int(line["to_bus"]))
            neighbours[int(line["to_bus"])].append(int(line["from_bus"]))
    hv = set(net.trafo["hv_bus"].astype(int))
    trafo_ids = [str(n) if isinstance(n, str) and n.strip() else f"TR{i}"
                 for i, n in zip(net.trafo.index, net.trafo["name"], strict=True)]
    if len(set(trafo_ids)) != len(trafo_ids):
        trafo_ids = [f"TR{i}" for i in net.trafo.index]
    owner: dict[int, str] = {}
    for tid, lv in zip(trafo_ids, net.trafo["lv_bus"].astype(int), strict=True):
        queue = deque([lv])
        while queue:
            bus = queue.popleft()
            if bus in owner or (bus in hv and bus != lv):
                continue
            owner[bus] = tid
            queue.extend(neighbours.get(bus, []))

    t_geo = [points.get(int(b)) for b in net.trafo["lv_bus"]]
    if any(g is None for g in t_geo):
        raise DecentraError("a transformer's low-voltage bus has no coordinates", source=name)
    transformers = gpd.GeoDataFrame({
        "transformer_id": trafo_ids,
        "rating_kva": (net.trafo["sn_mva"].astype(float) * 1000).to_numpy(),
        "std_type": net.trafo["std_type"].fillna("").astype(str).to_numpy(),
        "lv_bus": net.trafo["lv_bus"].astype(int).to_numpy()}, geometry=t_geo, crs=4326)
    rows = []
    for idx, line in net.line.iterrows():
        geom = _geometry(line["geo"]) if "geo" in net.line else None
        a, b = points.get(int(line["from_bus"])), points.get(int(line["to_bus"]))
        if geom is None and a is not None and b is not None:
            geom = LineString([a, b])
        if geom is None:
            continue
        rows.append({"line_id": f"PP{idx}",
                     "transformer_id": owner.get(int(line["from_bus"]),
                                                 owner.get(int(line["to_bus"]))),
                     "kind": "main", "std_type": str(line["std_type"] or ""),
                     "length_m": float(line["length_km"]) * 1000.0,
                     "from_node": f"bus{int(line['from_bus'])}",
                     "to_node": f"bus{int(line['to_bus'])}", "geometry": geom})
    lines = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    lines = lines[lines["transformer_id"].notna()].reset_index(drop=True)
    bus_points = gpd.GeoDataFrame({
        "bus": [int(b) for b in net.bus.index],
        "transformer_id": [owner.get(int(b)) for b in net.bus.index]},
        geometry=list(points.values), crs=4326)
    bus_points = bus_points[bus_points.geometry.notna()].reset_index(drop=True)
    load_buses = pd.DataFrame({"name": net.load["name"].astype(str).to_numpy(),
                               "bus": net.load["bus"].astype(int).to_numpy()})
    return PandapowerNetwork(transformers, lines, bus_points, load_buses, text)


def assign_buildings(buildings: gpd.GeoDataFrame, network: PandapowerNetwork) -> list[str]:
    """Transformer of each building: by load name = building id, else the transformer of the
    nearest load bus (of any fed bus when the network has no loads)."""
    fed = network.bus_points[network.bus_points["transformer_id"].notna()]
    if fed.empty:
        raise DecentraError("no bus of the network is fed by a transformer")
    by_name = dict(zip(network.load_buses["name"], network.load_buses["bus"], strict=True))
    bus_owner = dict(zip(fed["bus"], fed["transformer_id"], strict=True))
    load_bus_ids = set(network.load_buses["bus"]) & set(bus_owner)
    candidates = fed[fed["bus"].isin(load_bus_ids)] if load_bus_ids else fed
    crs = metric_crs(buildings)
    pts = buildings.to_crs(crs).geometry.representative_point()
    cand = candidates.to_crs(crs)
    cx = np.column_stack([cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy()])
    bx = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    nearest_m = np.sqrt(((bx[:, None, :] - cx[None, :, :]) ** 2).sum(axis=2).min(axis=1))
    if np.median(nearest_m) > MAX_BUILDING_TO_NETWORK_M:
        raise DecentraError(f"the network lies {np.median(nearest_m) / 1000:,.0f} km from the "
                            "buildings (median distance to the nearest bus); are they the "
                            "same place?")
    out = []
    for bid, p in zip(buildings["building_id"].astype(str), pts, strict=True):
        bus = by_name.get(bid)
        if bus is not None and bus in bus_owner:
            out.append(str(bus_owner[bus]))
            continue
        j = int(((cx - np.array([p.x, p.y])) ** 2).sum(axis=1).argmin())
        out.append(str(cand["transformer_id"].iloc[j]))
    return out
