"""Feeders and transformers from a pandapower network (``pandapower.to_json`` file).

Every transformer feeds the buses reachable from its low-voltage bus through in-service lines
and closed switches (without passing another transformer). Buildings are matched to the
network's loads by id (load name = building id) or else to the nearest load bus, and hang on
that bus's transformer. The network's JSON is kept with the district, so later grid
calculations use its real line and transformer parameters.
"""

from __future__ import annotations

import copy
import json
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, shape

from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs
from dashboard.domain.safejson import loads_json
from dashboard.io.plausibility import check_values
from dashboard.io.safety import check_pandapower_json

MAX_BUILDING_TO_NETWORK_M = 5000.0   # buildings further from the network: wrong files


@dataclass(frozen=True)
class PandapowerNetwork:
    transformers: gpd.GeoDataFrame   # transformer_id, rating_kva, std_type, lv_bus, geometry
    lines: gpd.GeoDataFrame          # line_id, transformer_id, kind, std_type, length_m, ...
    bus_points: gpd.GeoDataFrame     # bus, transformer_id (None: not fed), geometry
    load_buses: pd.DataFrame         # name, bus
    json_text: str
    warnings: tuple[str, ...] = ()   # unusual but possible values (for the import report)


def _geometry(value: object) -> object:
    if isinstance(value, str) and value.strip():
        try:
            return shape(json.loads(value))
        except (ValueError, TypeError, KeyError):
            return None
    return None


def parse_pandapower_json(text: str, source: str) -> Any:
    """A pandapower network from its JSON — uploaded or stored with a district, always
    through this one reader: the JSON is parsed with caps and walked against an allowlist
    (:func:`dashboard.io.safety.check_pandapower_json`) before pandapower imports anything or
    follows any path."""
    import pandapower as pp

    data = loads_json(text, source=source, max_bytes=200 * 2**20, max_depth=64)
    if not (isinstance(data, dict) and data.get("_class") == "pandapowerNet"):
        raise DecentraError("not a pandapower network (save it with pandapower.to_json)",
                            source=source)
    check_pandapower_json(data, source)
    try:
        net = pp.from_json_string(text)
    except Exception as err:  # pandapower raises many kinds for foreign JSON
        raise DecentraError(f"not a pandapower network ({type(err).__name__})",
                            source=source) from None
    if not isinstance(net, pp.pandapowerNet):
        raise DecentraError("not a pandapower network (save it with pandapower.to_json)",
                            source=source)
    return net


def read_pandapower(path: str | Path) -> PandapowerNetwork:

    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DecentraError("not a pandapower network: the file is not UTF-8 JSON",
                            source=name) from None
    except OSError as err:
        raise DecentraError(f"cannot read the file ({err.strerror})", source=name) from None
    net = parse_pandapower_json(text, name)
    try:
        return _parse(net, name, text)
    except DecentraError:
        raise
    except (KeyError, AttributeError, ValueError, TypeError, IndexError) as err:
        raise DecentraError(f"the pandapower network is incomplete or damaged "
                            f"({type(err).__name__}: {str(err)[:120]})", source=name) from None


def check_network_values(net: Any, name: str) -> list[str]:
    """Ratings, voltages, lengths and impedances of the in-service elements possible and
    finite (plausibility.BOUNDS): an impossible value is refused naming the element; unusual
    ones are returned as warnings."""
    warnings: list[str] = []
    t = net.trafo[net.trafo["in_service"].astype(bool)] if "in_service" in net.trafo \
        else net.trafo
    rows = [f"trafo {i} ({n})" if isinstance(n, str) and n else f"trafo {i}"
            for i, n in zip(t.index, t.get("name", pd.Series(index=t.index)), strict=True)]
    sn = pd.to_numeric(t["sn_mva"], errors="coerce").to_numpy(float) * 1000.0
    warnings += check_values("rating_kva", sn, name, "trafo.sn_mva (kVA)", rows)
    for col in ("vn_hv_kv", "vn_lv_kv"):
        warnings += check_values("vn_kv", pd.to_numeric(t[col], errors="coerce"), name,
                                 f"trafo.{col}", rows)
    if "vk_percent" in t:
        warnings += check_values("vk_percent", pd.to_numeric(t["vk_percent"], errors="coerce"),
                                 name, "trafo.vk_percent", rows)
    lines = net.line[net.line["in_service"].astype(bool)] if "in_service" in net.line \
        else net.line
    if len(lines):
        lrows = [f"line {i}" for i in lines.index]
        for col, key in (("length_km", "length_km"), ("r_ohm_per_km", "r_ohm_per_km"),
                         ("x_ohm_per_km", "x_ohm_per_km"), ("max_i_ka", "max_i_ka")):
            if col in lines:
                warnings += check_values(key, pd.to_numeric(lines[col], errors="coerce"),
                                         name, f"line.{col}", lrows)
    if len(net.bus):
        warnings += check_values("vn_kv", pd.to_numeric(net.bus["vn_kv"], errors="coerce"),
                                 name, "bus.vn_kv", [f"bus {i}" for i in net.bus.index])
    return warnings


def _parse(net: Any, name: str, text: str) -> PandapowerNetwork:
    if len(net.trafo) == 0:
        raise DecentraError("the network has no transformer (net.trafo is empty)", source=name)
    warnings = check_network_values(net, name)
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
    return PandapowerNetwork(transformers, lines, bus_points, load_buses, text,
                             tuple(warnings))


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


# ---- District -> pandapower -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DistrictNet:
    """A district's low-voltage grid as a pandapower network, with the joins back to the
    district: the bus of every building and transformer, and the district line of every
    pandapower line."""

    net: Any                          # pandapowerNet
    building_bus: np.ndarray          # (N,) pandapower bus index per building row
    transformer_bus: np.ndarray       # (K,) pandapower LV bus per transformer row
    transformer_trafo: np.ndarray     # (K,) pandapower trafo index per transformer row (-1: none)
    line_ids: tuple[str, ...]         # district line_id per pandapower line row (net.line order)
    source: str                       # "synthesized", "imported pandapower network", ...
    notes: tuple[str, ...] = ()


SNAP_M = 0.5                          # line ends closer than this are one bus


def to_pandapower(district: Any) -> DistrictNet:
    """The district's grid as a pandapower network.

    A district imported from a pandapower network gets that network back, with its own line,
    transformer and switch parameters; its loads and generators are switched off and one load
    per building is placed at the bus its load was joined to (by name, else the nearest load
    bus). Any other district (synthesized, or GIS transformers and lines) is built from its
    lines: buses at line ends (from the node ids, or snapped by position for lines given
    without topology), standard line types from the lines, one substation per transformer
    (MV bus held by an ext_grid, standard transformer type from the rating), one load per
    building at its service connection (or the nearest bus of its transformer).
    """
    if district.meta.get("pandapower_json"):
        return _from_stored_network(district)
    return _build_network(district)


def _std_trafo(pp: Any, net: Any, rating_kva: float, std_type: str, mv_kv: float
               ) -> tuple[str | None, dict[str, float] | None]:
    types = pp.available_std_types(net, "trafo")
    if std_type in types.index:
        return std_type, None
    candidates = [f"{r:g} MVA {mv_kv:g}/0.4 kV" for r in (0.25, 0.4, 0.63)]
    for name in candidates:
        if name in types.index and abs(float(types.at[name, "sn_mva"]) * 1000 - rating_kva) < 1:
            return name, None
    # a rating without a standard type: typical distribution transformer parameters
    return None, {"sn_mva": rating_kva / 1000, "vn_hv_kv": mv_kv, "vn_lv_kv": 0.4,
                  "vk_percent": 6.0, "vkr_percent": 1.0, "pfe_kw": 0.0, "i0_percent": 0.0}


def _build_network(district: Any) -> DistrictNet:
    import pandapower as pp

    a = district.assumptions
    mv_kv = a.number("grid.mv_voltage_kv")
    slack_pu = a.number("grid.slack_voltage_pu")
    main_type = a.text("grid.main_line_std_type")
    service_type = a.text("grid.service_line_std_type")
    net = pp.create_empty_network(name=district.name, sn_mva=1.0)
    line_types = pp.available_std_types(net, "line").index
    notes: list[str] = []
    lines = district.lines.reset_index(drop=True)
    crs = metric_crs(district.buildings)
    lines_m = lines.to_crs(crs)
    trans = district.transformers.reset_index(drop=True)
    trans_m = trans.to_crs(crs)

    # buses: line ends, joined by node id; ends without shared ids are snapped by position
    node_xy: dict[str, tuple[float, float]] = {}
    ends: list[tuple[str, str]] = []
    for row, geom in zip(lines_m.itertuples(index=False), lines_m.geometry, strict=True):
        coords = list(geom.coords) if geom.geom_type == "LineString" else \
            [c for part in geom.geoms for c in part.coords]
        f, t = str(row.from_node), str(row.to_node)
        node_xy.setdefault(f, coords[0][:2])
        node_xy.setdefault(t, coords[-1][:2])
        ends.append((f, t))
    uses = Counter(n for e in ends for n in e)
    snap = len(ends) > 1 and max(uses.values()) == 1   # lines given without topology
    if snap:
        notes.append("the lines carry no shared node ids: their ends were joined where they "
                     f"meet (within {SNAP_M:g} m)")
    key_of: dict[str, str] = {n: n for n in node_xy}
    if snap:            # ends within SNAP_M of each other are one bus (union of close pairs)
        from scipy.spatial import cKDTree

        names = list(node_xy)
        parent = list(range(len(names)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, j in cKDTree(np.array(list(node_xy.values()))).query_pairs(SNAP_M):
            parent[root(i)] = root(j)
        key_of = {n: names[root(i)] for i, n in enumerate(names)}
    to_lonlat = gpd.GeoSeries([Point(xy) for xy in node_xy.values()], crs=crs).to_crs(4326)
    lonlat = dict(zip(node_xy, zip(to_lonlat.x, to_lonlat.y, strict=True), strict=True))
    keys = list(dict.fromkeys(key_of[n] for n in node_xy))
    first: dict[str, str] = {}
    for n in node_xy:
        first.setdefault(key_of[n], n)
    idx = pp.create_buses(net, len(keys), vn_kv=0.4, name=[first[k] for k in keys], type="n",
                          geodata=[(float(lonlat[first[k]][0]), float(lonlat[first[k]][1]))
                                   for k in keys]) if keys else []
    bus_of: dict[str, int] = {k: int(i) for k, i in zip(keys, idx, strict=True)}

    keep = [i for i, (f, t) in enumerate(ends) if bus_of[key_of[f]] != bus_of[key_of[t]]]
    kind = lines["kind"].astype(str).to_numpy()
    std = [str(v) if str(v) in line_types else (service_type if kind[i] == "service"
                                                else main_type)
           for i, v in enumerate(lines["std_type"].astype(str))]
    if keep:
        pp.create_lines(net, [bus_of[key_of[ends[i][0]]] for i in keep],
                        [bus_of[key_of[ends[i][1]]] for i in keep],
                        length_km=[max(float(lines["length_m"].iloc[i]), 0.1) / 1000.0
                                   for i in keep],
                        std_type=[std[i] for i in keep],
                        name=[str(lines["line_id"].iloc[i]) for i in keep],
                        parallel=[int(lines["parallel"].iloc[i]) for i in keep])
    line_ids = [str(lines["line_id"].iloc[i]) for i in keep]

    # substations: MV bus + ext_grid + transformer to the LV bus at the transformer's node
    lv_buses = np.array(sorted(bus_of.values())) if bus_of else np.array([], dtype=int)
    t_bus = np.full(len(trans), -1, dtype=np.int64)
    t_trafo = np.full(len(trans), -1, dtype=np.int64)
    lv_xy = _bus_xy_metric(net, lv_buses, crs)
    for j, row in enumerate(trans.itertuples(index=False)):
        node = str(getattr(row, "node", "") or "")
        if node in key_of:
            lv = bus_of[key_of[node]]
        elif node.startswith("B:"):      # a building's own substation (MV connection)
            lon, lat = float(row.geometry.x), float(row.geometry.y)
            lv = pp.create_bus(net, vn_kv=0.4, name=node, geodata=(lon, lat))
            key_of[node] = node
            bus_of[node] = int(lv)
        elif len(lv_buses):
            p = trans_m.geometry.iloc[j]
            lv = int(lv_buses[((lv_xy - [p.x, p.y]) ** 2).sum(axis=1).argmin()])
        else:
            lon, lat = float(row.geometry.x), float(row.geometry.y)
            lv = pp.create_bus(net, vn_kv=0.4, name=f"T:{row.transformer_id}",
                               geodata=(lon, lat))
        geo = net.bus.at[lv, "geo"]
        mv = pp.create_bus(net, vn_kv=mv_kv, name=f"MV {row.transformer_id}", type="b",
                           geodata=tuple(json.loads(geo)["coordinates"]) if isinstance(geo, str)
                           else None)
        pp.create_ext_grid(net, mv, vm_pu=slack_pu, va_degree=0.0,
                           name=f"MV grid {row.transformer_id}")
        trafo_std, params = _std_trafo(pp, net, float(row.rating_kva), str(row.std_type), mv_kv)
        if trafo_std is not None:
            t_trafo[j] = pp.create_transformer(net, mv, lv, std_type=trafo_std,
                                               name=str(row.transformer_id))
        else:
            t_trafo[j] = pp.create_transformer_from_parameters(
                net, mv, lv, name=str(row.transformer_id), **(params or {}))
        t_bus[j] = lv

    # buildings: at their service connection ("B:<id>"), else the nearest LV bus
    b = district.buildings.reset_index(drop=True)
    b_bus = np.full(len(b), -1, dtype=np.int64)
    missing = []
    for i, bid in enumerate(b["building_id"].astype(str)):
        k = key_of.get(f"B:{bid}")
        if k is not None:
            b_bus[i] = bus_of[k]
        else:
            missing.append(i)
    if missing:
        pts = b.iloc[missing].to_crs(crs).geometry.representative_point()
        # buses of the network itself (line ends and substations), not stray nodes
        used = set(net.line["from_bus"]) | set(net.line["to_bus"]) | set(net.trafo["lv_bus"])
        all_lv = np.array(sorted(bus for bus in used if net.bus.at[bus, "vn_kv"] < 1.0))
        xy = _bus_xy_metric(net, all_lv, crs)
        for i, p in zip(missing, pts, strict=True):
            b_bus[i] = int(all_lv[((xy - [p.x, p.y]) ** 2).sum(axis=1).argmin()])
        notes.append(f"{len(missing)} buildings have no service line: joined to the nearest "
                     "bus")
    pp.create_loads(net, [int(x) for x in b_bus], p_mw=0.0, q_mvar=0.0,
                    name=b["building_id"].astype(str).tolist())
    return DistrictNet(net, b_bus, t_bus, t_trafo, tuple(line_ids), "synthesized from the "
                       "district's lines and transformers", tuple(notes))


def _bus_xy_metric(net: Any, buses: np.ndarray, crs: Any) -> np.ndarray:
    if not len(buses):
        return np.zeros((0, 2))
    pts = [shape(json.loads(net.bus.at[int(b), "geo"])) for b in buses]
    g = gpd.GeoSeries(pts, crs=4326).to_crs(crs)
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def _from_stored_network(district: Any) -> DistrictNet:
    import pandapower as pp

    net = parse_pandapower_json(district.meta["pandapower_json"], "the district's network")
    b = district.buildings.reset_index(drop=True)
    load_bus = dict(zip(net.load["name"].astype(str), net.load["bus"].astype(int),
                        strict=False))
    candidates = np.array(sorted(set(net.load["bus"].astype(int)))) if len(net.load) else \
        np.array([int(x) for x in net.bus.index])
    # only buses with coordinates can be the nearest (the importer accepts partial geodata)
    pts_of = {int(bus): _geometry(net.bus.at[bus, "geo"]) if "geo" in net.bus else None
              for bus in candidates}
    candidates = np.array([bus for bus in candidates if pts_of[int(bus)] is not None],
                          dtype=np.int64)
    crs = metric_crs(b)
    cand = (gpd.GeoSeries([pts_of[int(bus)] for bus in candidates], crs=4326).to_crs(crs)
            if len(candidates) else None)
    pts = b.to_crs(crs).geometry.representative_point()
    b_bus = np.empty(len(b), dtype=np.int64)
    for i, (bid, p) in enumerate(zip(b["building_id"].astype(str), pts, strict=True)):
        if bid in load_bus:
            b_bus[i] = load_bus[bid]
        elif cand is not None:
            d2 = (cand.x.to_numpy() - p.x) ** 2 + (cand.y.to_numpy() - p.y) ** 2
            b_bus[i] = int(candidates[d2.argmin()])
        else:
            raise DecentraError("the stored pandapower network has no bus coordinates")
    # the network's own loads, generators and storage give way to the district's buildings
    # (the full-year power flow injects only buildings, PV, batteries and community storage)
    for table in ("load", "sgen", "storage", "motor", "asymmetric_load", "asymmetric_sgen",
                  "ward", "xward"):
        if table in net and len(net[table]):
            net[table]["in_service"] = False
    pp.create_loads(net, [int(x) for x in b_bus], p_mw=0.0, q_mvar=0.0,
                    name=b["building_id"].astype(str).tolist())
    # transformer ids as the importer made them: the trafo's name, else "TR<index>"
    names = [str(n) for n in net.trafo["name"]]
    by_name = {n: i for n, i in zip(names, net.trafo.index, strict=True)
               if n.strip() and names.count(n) == 1}
    by_index = {f"TR{i}": i for i in net.trafo.index}
    t_trafo = np.array([by_name.get(t, by_index.get(t, -1))
                        for t in district.transformers["transformer_id"].astype(str)],
                       dtype=np.int64)
    t_bus = np.array([int(net.trafo.at[i, "lv_bus"]) if i >= 0 else -1 for i in t_trafo],
                     dtype=np.int64)
    line_ids = tuple(f"PP{i}" for i in net.line.index)
    return DistrictNet(net, b_bus, t_bus, t_trafo, line_ids,
                       "the imported pandapower network (its own line and transformer "
                       "parameters)",
                       ("the network's own loads and generators are switched off; one load "
                        "per building replaces them",))


def grid_model(net: Any) -> Any:
    """The admittance model of a pandapower network (``energy.powerflow.GridModel``), built
    by pandapower's own conversion (``pd2ppc`` within ``runpp``) and ``makeYbus``. Raises
    DecentraError for networks the batched solver cannot take (voltage-controlled
    generators) or that pandapower cannot convert."""
    import pandapower as pp
    from pandapower.pypower.idx_brch import F_BUS, T_BUS
    from pandapower.pypower.idx_bus import BASE_KV, BUS_TYPE
    from pandapower.pypower.makeYbus import makeYbus

    from dashboard.energy.powerflow import GridModel, make_islands

    if len(net.gen) and net.gen["in_service"].any():
        raise DecentraError("the network has voltage-controlled generators (net.gen): the "
                            "full-year power flow takes loads, PV and storage only")
    for table in ("xward", "ward", "svc", "ssc", "tcsc", "vsc", "dcline"):
        if table in net and len(net[table]) and net[table]["in_service"].any():
            raise DecentraError(f"the network has in-service {table} elements, which the "
                                "full-year power flow does not model; switch them off or "
                                "replace them with loads")
    if not len(net.ext_grid) or not net.ext_grid["in_service"].any():
        raise DecentraError("the network has no external grid (net.ext_grid) to feed it")
    # the admittance model does not depend on the injections: convert a copy without them
    net = copy.deepcopy(net)
    for table in ("load", "sgen", "storage", "shunt", "ward", "xward", "motor", "asymmetric_load",
                  "asymmetric_sgen"):
        if table in net and len(net[table]) and table not in ("shunt", "ward", "xward"):
            net[table]["in_service"] = False
    try:
        # numba=False: the same conversion (pd2ppc) and a solve of the unloaded network
        # without JIT-compiling pandapower's numba kernels, which are not cached on disk and
        # cost every process ~7 s of CPU (each app start and each job worker's warm-up)
        pp.runpp(net, calculate_voltage_angles=True, numba=False)
    except Exception as err:  # pandapower raises LoadflowNotConverged and conversion errors
        raise DecentraError(f"pandapower cannot solve the network even without load "
                            f"({type(err).__name__}: {str(err)[:160]})") from None
    ppc = net._ppc
    base = float(ppc["baseMVA"])
    ybus, yf, yt = makeYbus(base, ppc["bus"], ppc["branch"])
    lookup = net._pd2ppc_lookups["bus"]
    ppc_of_bus = {int(b): int(lookup[b]) for b in net.bus.index
                  if b < len(lookup) and lookup[b] >= 0}
    eg = net.ext_grid[net.ext_grid["in_service"].astype(bool)]
    slack = np.array([ppc_of_bus[int(b)] for b in eg["bus"]], dtype=np.int64)
    v_slack = (eg["vm_pu"].to_numpy(float)
               * np.exp(1j * np.radians(eg["va_degree"].to_numpy(float))))
    slack, first = np.unique(slack, return_index=True)
    v_slack = v_slack[first]
    live = ppc["bus"][:, BUS_TYPE].real != 4            # 4: isolated (out of service)
    islands, island_of = make_islands(ybus.tocsr(), slack, v_slack, live)
    branch = ppc["branch"]
    lines = net._pd2ppc_lookups["branch"].get("line", (0, 0))
    trafos = net._pd2ppc_lookups["branch"].get("trafo", (0, 0))
    line = net.line
    trafo = net.trafo
    return GridModel(
        n_bus=ybus.shape[0], base_mva=base, base_kv=ppc["bus"][:, BASE_KV].real.astype(float),
        ppc_of_bus=ppc_of_bus, islands=islands, island_of=island_of, yf=yf.tocsr(),
        yt=yt.tocsr(), f_bus=branch[:, F_BUS].real.astype(np.int64),
        t_bus=branch[:, T_BUS].real.astype(np.int64),
        line_rows=(int(lines[0]), int(lines[1])), line_index=line.index.to_numpy(),
        line_imax_ka=(line["max_i_ka"] * line["df"] * line["parallel"]).to_numpy(float),
        trafo_rows=(int(trafos[0]), int(trafos[1])), trafo_index=trafo.index.to_numpy(),
        trafo_vn_kv=trafo[["vn_hv_kv", "vn_lv_kv"]].to_numpy(float),
        trafo_sn_mva=(trafo["sn_mva"] * trafo["parallel"] * trafo["df"]).to_numpy(float))


def scenario_network(district: Any, scenario: Any) -> str:
    """The district's grid with the scenario as pandapower JSON (``pandapower.to_json``):
    one load per building (named by building id, ``p_mw`` 0: set the hour you study), one
    static generator per rooftop PV (``sn_mva`` and ``p_mw`` at its nameplate kWp), one
    storage per battery and community battery (``max_e_mwh``, ``p_mw`` 0). Bus geodata and
    the line and transformer parameters are those the full-year power flow uses."""
    import pandapower as pp

    dnet = to_pandapower(district)
    net = dnet.net
    row = {bid: i for i, bid in enumerate(district.buildings["building_id"].astype(str))}
    for p in scenario.pv:
        pp.create_sgen(net, int(dnet.building_bus[row[p.building_id]]), p_mw=p.kwp / 1000.0,
                       sn_mva=p.kwp / 1000.0, name=p.building_id, type="PV")
    for b in scenario.batteries:
        pp.create_storage(net, int(dnet.building_bus[row[b.building_id]]), p_mw=0.0,
                          max_e_mwh=b.capacity_kwh / 1000.0, sn_mva=b.power_kw / 1000.0,
                          name=b.building_id)
    tpos = {t: k for k, t in enumerate(district.transformers["transformer_id"].astype(str))}
    for c in scenario.community_batteries:
        pp.create_storage(net, int(dnet.transformer_bus[tpos[c.transformer_id]]), p_mw=0.0,
                          max_e_mwh=c.capacity_kwh / 1000.0, sn_mva=c.power_kw / 1000.0,
                          name=f"community {c.transformer_id}")
    return str(pp.to_json(net))
